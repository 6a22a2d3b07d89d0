"""What the API says to people is in their language, the ``code`` never: the user's saved
``language`` when set, else ``Accept-Language``, else English. For conversations, files, the
collector, todos, imports and /v1, including what background jobs write (a file's extraction
failure, an import's per-conversation errors), which is written in the language of the request
that queued them.
"""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from accounts.models import Plan, UserSettings
from conversations.models import Message, MessageStatus
from tests.conversations.factories import ConversationFactory, turn
from tests.conversations.upstream import upstream  # noqa: F401
from tests.files import makers
from tests.portability import chatgpt_export as gpt

pytestmark = pytest.mark.django_db

KO = {"HTTP_ACCEPT_LANGUAGE": "ko-KR,ko;q=0.9,en;q=0.8"}


@pytest.fixture(autouse=True)
def _english_again_after():
    # The test client answers in this thread, and a user's saved language stays active after the
    # request: the next test's direct service calls would be in Korean.
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _speaks_korean(user):
    UserSettings.objects.filter(user=user).update(language="ko")


@pytest.fixture
def quota_spent(user):
    plan = Plan.objects.get(slug="free")
    Plan.objects.filter(pk=plan.pk).update(daily_message_limit=1)
    UserSettings.objects.filter(user=user).update(plan=plan)
    conversation = ConversationFactory(owner=user)
    turn(conversation)
    Message.objects.filter(status=MessageStatus.PENDING).update(status=MessageStatus.COMPLETE)
    return conversation


def _send(client, conversation, **headers):
    return client.post(
        f"/api/v1/conversations/{conversation.pk}/messages", {"content": "안녕하세요"}, format="json", **headers
    )


def test_quota_exceeded_in_korean_by_accept_language_with_the_same_code(user_client, quota_spent):
    english = _send(user_client, quota_spent)
    korean = _send(user_client, quota_spent, **KO)

    assert english.status_code == korean.status_code == 429
    assert english.json()["code"] == korean.json()["code"] == "daily_quota_exceeded"
    assert english.json()["detail"].startswith("You have sent 1 of 1 message allowed today.")
    assert korean.json()["detail"] == (
        "오늘 허용된 메시지 1개 중 1개를 보냈습니다. 한도는 사용자 시간대 기준 자정에 초기화됩니다."
    )
    assert korean["Content-Language"] == "ko"


def test_the_saved_language_wins_over_the_browsers(user_client, user, quota_spent):
    _speaks_korean(user)
    response = _send(user_client, quota_spent, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.json()["code"] == "daily_quota_exceeded"
    assert response.json()["detail"].startswith("오늘 허용된 메시지")


def test_a_file_too_large_is_413_file_too_large_in_korean(user_client, settings):
    settings.FILES_MAX_UPLOAD_BYTES = 1000
    file = SimpleUploadedFile("큰 파일.txt", b"a" * 1001)
    response = user_client.post("/api/v1/files", {"file": file}, format="multipart", **KO)
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    # The sizes come from accounts.storage.size_text; the sentence around them is ours.
    detail = response.json()["detail"]
    assert detail.startswith("파일(1001 ") and detail.endswith("보다 큽니다."), detail


def test_why_a_file_could_not_be_read_is_written_in_the_uploaders_language(
    user_client, user, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    _speaks_korean(user)
    empty_document = makers.docx([])
    with django_capture_on_commit_callbacks(execute=True):
        created = user_client.post(
            "/api/v1/files",
            {"file": SimpleUploadedFile("빈 문서.docx", empty_document)},
            format="multipart",
        )
    assert created.status_code == 201, created.content
    stored = user_client.get(f"/api/v1/files/{created.json()['id']}").json()
    assert stored["status"] == "failed"
    assert stored["error"] == "no_text"  # the code, for clients to branch on
    assert stored["error_detail"] == "파일에 텍스트가 없습니다."


def test_collector_validation_in_korean(user_client):
    response = user_client.post("/api/v1/collector/items", {"kind": "link", "title": "x", "url": "ftp://x"}, **KO)
    assert response.status_code == 400
    assert response.json() == {"url": ["올바른 http(s) URL을 입력해 주세요."]}

    response = user_client.post(
        "/api/v1/collector/items", {"kind": "note", "title": "메모", "tags": ["업무\x07"]}, format="json", **KO
    )
    assert response.status_code == 400
    assert response.json() == {"tags": ["태그에는 제어 문자를 쓸 수 없습니다."]}


def test_todo_validation_in_korean(user_client, user):
    _speaks_korean(user)
    response = user_client.post("/api/v1/todos", {"title": "\x07"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"title": ["할 일에는 제목이 필요합니다."]}


def test_an_imports_per_conversation_errors_are_in_the_language_it_was_started_in(
    user_client, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    data = gpt.as_json([gpt.trip_conversation(), {"title": "깨진 대화", "mapping": "not a tree"}])
    with django_capture_on_commit_callbacks(execute=True):
        started = user_client.post(
            "/api/v1/imports", {"file": SimpleUploadedFile("conversations.json", data)}, format="multipart", **KO
        )
    assert started.status_code == 202, started.content
    done = user_client.get(f"/api/v1/imports/{started.json()['id']}").json()
    assert done["status"] == "done"
    assert done["errors"] == [
        {"kind": "conversation", "index": 1, "title": "깨진 대화", "error": "대화에 'mapping'(메시지 트리)이 없습니다"}
    ]


def test_an_import_that_is_no_export_says_so_in_korean(user_client):
    response = user_client.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("notes.txt", b"hello")}, format="multipart", **KO
    )
    assert response.status_code == 400
    assert response.json()["file"][0].startswith("JSON 파일(또는 zip)이 아닙니다. ChatGPT 데이터 내보내기 파일")


def test_v1_is_english_for_an_sdk_and_korean_for_a_user_who_chose_it(api_client, user):
    from accounts.services import api_key_create

    _key, secret = api_key_create(user=user, name="sdk")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    body = {"model": "nope", "messages": [{"role": "user", "content": "hi"}], "functions": [{"name": "f"}]}

    english = api_client.post("/v1/chat/completions", body, format="json", **headers)
    _speaks_korean(user)
    korean = api_client.post("/v1/chat/completions", body, format="json", **headers)

    assert english.status_code == korean.status_code == 400
    assert english.json()["error"]["message"] == "functions is deprecated and not supported here: send tools instead."
    assert (
        korean.json()["error"]["message"] == "functions는 더 이상 쓰이지 않아 지원하지 않습니다. 대신 tools를 보내세요."
    )
    assert english.json()["error"]["code"] == korean.json()["error"]["code"]


@pytest.mark.django_db(transaction=True)
def test_a_failed_replys_error_event_is_in_the_language_of_the_request_that_started_it(
    asgi_server,
    upstream,  # noqa: F811
    user,
):
    import httpx
    from django.utils import translation

    from conversations import generation
    from tests.conversations.sse import iter_events
    from tests.conversations.test_stream import bearer, exchange, make_model, stream_url

    model = make_model(upstream, "drop:40")
    conversation, reply = exchange(user, model)
    with httpx.stream("GET", stream_url(asgi_server, conversation), headers=bearer(user), timeout=20) as response:
        with translation.override("ko"):  # as the request that sent the message was answered
            generation.start_generation(message_id=reply.id)
        events = list(iter_events(response))
    error = events[-2]
    assert error.name == "error"
    assert error.data["code"] == "upstream_unreachable"
    assert error.data["message"] == "모델 서버와의 연결이 끊어졌습니다."
    assert Message.objects.get(pk=reply.pk).error == "모델 서버와의 연결이 끊어졌습니다."
