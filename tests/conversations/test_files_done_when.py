"""Issue 20's "Done when", server side, on a fresh setup with nothing configured: a new user
uploads a 30-page PDF, asks in Korean about a fact on page 17, and the model is sent that page's
passage and none of the rest, with the PDF and page 17 as the reply's source; a screenshot goes to
a vision model as an image. Everything real: the upload API, the extraction job, the knowledge
index, retrieval, the generation pipeline, and a recording OpenAI-compatible upstream."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations.models import Conversation
from tests.conversations.attached import image_of, png_bytes, text_model, vision_model
from tests.conversations.upstream import upstream  # noqa: F401
from tests.files.makers import pdf_with_text

pytestmark = pytest.mark.django_db(transaction=True)

FACT = "해밀턴 연구소의 냉각수 온도 한계는 섭씨 287도로 정해졌다."
QUESTION = "해밀턴 연구소에서 정한 냉각수 온도 한계는 몇 도인가요?"
TOPICS = [
    "봄철 정원 가꾸기",
    "지역 도서관 운영 시간",
    "사내 체육 대회 일정",
    "신입 사원 교육 과정",
    "주차장 이용 규칙",
    "구내식당 메뉴 변경",
    "사무용품 구매 절차",
    "출장비 정산 방법",
    "보안 출입증 재발급",
    "회의실 예약 방법",
]


def page_text(number: int) -> str:
    if number == 17:
        return f"제{number}쪽. {FACT} 이 값은 모든 시험 운전에 적용된다."
    topic = TOPICS[number % len(TOPICS)]
    # A sentence only this page has (its number spelled into it), and ordinary filler.
    return (
        f"제{number}쪽. 이 쪽은 {topic}에 관한 안내이다. 고유 표시 문장 번호 {number:02d}번은 다른 쪽에 없다. "
        "자세한 내용은 담당 부서에 문의하기 바란다."
    )


def upload(client, name: str, data: bytes, content_type: str) -> dict:
    response = client.post(
        "/api/v1/files", {"file": SimpleUploadedFile(name, data, content_type=content_type)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_fact_on_page_17_of_a_30_page_pdf_is_answered_from_that_page(settings, tmp_path, user_client, upstream):  # noqa: F811
    settings.MEDIA_ROOT = str(tmp_path)
    model = text_model(upstream, context_window=8192, max_output_tokens=512)
    pdf = upload(user_client, "연구 보고서.pdf", pdf_with_text([page_text(n) for n in range(1, 31)]), "application/pdf")
    status = user_client.get(f"/api/v1/files/{pdf['id']}").json()
    assert status["status"] == "ready" and status["pages"] == 30, status
    before = len(upstream.requests)

    response = user_client.post(
        "/api/v1/conversations?wait=true",
        {"model": model.slug, "message": QUESTION, "attachments": [pdf["id"]]},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert len(upstream.requests) == before + 1
    sent = json.dumps(upstream.requests[-1], ensure_ascii=False)
    assert FACT in sent  # page 17's passage is in the prompt...
    for number in range(1, 31):  # ...and no other page's text is
        if number != 17:
            assert f"고유 표시 문장 번호 {number:02d}번" not in sent, number
    assert QUESTION in sent
    sources = response.json()["assistant_message"]["sources"]
    assert sources and all(s["kind"] == "file" and s["id"] == pdf["id"] for s in sources)
    assert sources[0]["n"] == 1 and sources[0]["title"] == "연구 보고서.pdf" and sources[0]["page"] == 17
    assert {s["page"] for s in sources} == {17}
    assert FACT in sources[0]["snippet"]
    # The conversation, read back, shows the same.
    conversation = Conversation.objects.get(pk=response.json()["id"])
    listed = user_client.get(f"/api/v1/conversations/{conversation.pk}/messages").json()["results"]
    assert listed[0]["attachments"][0]["name"] == "연구 보고서.pdf"
    assert listed[1]["sources"] == sources


def test_a_screenshot_reaches_a_vision_model_as_an_image(settings, tmp_path, user_client, upstream):  # noqa: F811
    settings.MEDIA_ROOT = str(tmp_path)
    model = vision_model(upstream)
    screenshot = upload(user_client, "screenshot.png", png_bytes(2560, 1440), "image/png")
    assert screenshot["status"] == "ready"
    before = len(upstream.requests)

    response = user_client.post(
        "/api/v1/conversations?wait=true",
        {"model": model.slug, "message": "이 화면에서 무엇이 보이나요?", "attachments": [screenshot["id"]]},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert len(upstream.requests) == before + 1
    content = upstream.requests[-1]["messages"][-1]["content"]
    assert [part["type"] for part in content] == ["text", "image_url"]
    assert image_of(content[1]["image_url"]["url"]).size == (1568, 882)
