"""Korean sources fit the shipped model's window: passages are chosen within a budget counted the
way the model counts (SmolLM2 spends three tokens on a Hangul syllable). Counted as one token a
syllable, a Korean question matching many pages of a PDF sent the 2,048-token model a prompt of
2,086 tokens, and the reply failed. The real model server, the real upload and extraction."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations.models import LLMModel, Message, MessageStatus
from tests.files.makers import pdf_with_text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.usefixtures("local_model_row")]

TOPICS = ["사업 추진", "연구 개발 투자", "고객 만족도", "안전 관리", "지역 사회 공헌 활동"]


def page_text(number: int) -> str:
    topic = TOPICS[number % len(TOPICS)]
    return (
        f"제{number}쪽. 회사의 {topic} 현황을 정리한 보고이다. 올해 {topic} 부문은 목표를 넘어섰고 "
        f"담당 부서는 다음 분기 {topic} 계획을 새로 세웠다. 세부 수치와 일정은 부록에 실려 있으며 "
        f"{topic}에 관한 의견은 경영 지원팀이 받는다. " * 3
    )


def test_a_korean_question_over_many_pages_fits_the_shipped_models_window(settings, tmp_path, user_client):
    settings.MEDIA_ROOT = str(tmp_path)
    LLMModel.objects.filter(slug="smollm2-135m").update(max_output_tokens=8)
    upload = SimpleUploadedFile("보고서.pdf", pdf_with_text([page_text(n) for n in range(1, 31)]), "application/pdf")
    pdf = user_client.post("/api/v1/files", {"file": upload}, format="multipart").json()
    assert user_client.get(f"/api/v1/files/{pdf['id']}").json()["status"] == "ready"

    question = "회사의 사업 추진, 연구 개발 투자, 고객 만족도, 안전 관리, 지역 사회 공헌 활동을 요약해 주세요."
    response = user_client.post(
        "/api/v1/conversations?wait=true", {"message": question, "attachments": [pdf["id"]]}, format="json"
    )

    assert response.status_code == 201, response.content
    reply = response.json()["assistant_message"]
    assert reply["status"] == "complete", reply  # not upstream_incomplete: the prompt fitted
    assert reply["sources"], reply  # and passages were sent
    assert Message.objects.get(pk=reply["id"]).status == MessageStatus.COMPLETE
