"""The app's own check of the model's window (issue 23, Deliver 8): a new question (a send, a new
chat's first message, an edit) that cannot fit the model's window alone, with the chat's system
prompt and room for an answer, is a 400 ``context_length_exceeded`` before anything is saved or
charged; it is counted as ``/v1`` counts (the embedded model's tokenizer when the estimate says it
may not fit). The history is still trimmed oldest first."""

import time

import pytest
from django.utils import translation

from accounts.models import UserSettings
from conversations import window
from conversations.llm import get_provider
from conversations.models import Conversation, LedgerEntry, LLMModel, Message, MessageStatus, Role
from tests.conversations.factories import ConversationFactory, LLMModelFactory
from tests.conversations.upstream import upstream  # noqa: F401

KOREAN = "안녕하세요, 오늘은 날씨가 맑고 바람이 시원합니다. 도서관에 가서 책을 읽을 계획입니다. " * 25
PROSE = (
    "The old lighthouse keeper climbed the narrow stairs every evening, carrying a lantern and a notebook "
    "in which he wrote down the weather, the ships he saw and the birds that rested on the railing. "
)
ENGLISH_7500 = (PROSE * 40)[:7500]
KO = {"HTTP_ACCEPT_LANGUAGE": "ko-KR,ko;q=0.9"}


@pytest.fixture
def small(db):
    """A 1,024-token model: 256 kept for the answer."""
    return LLMModelFactory(slug="small", context_window=1024, max_output_tokens=256)


@pytest.fixture
def conversation(user, small):
    return ConversationFactory(owner=user, model=small)


def _messages_url(conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/messages"


@pytest.mark.django_db
def test_a_korean_message_too_long_for_the_window_is_refused_and_nothing_is_saved(user_client, conversation):
    response = user_client.post(_messages_url(conversation), {"content": KOREAN}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "context_length_exceeded"
    assert body["detail"].startswith("Your message is too long for Small:")
    assert not Message.objects.exists() and not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_the_refusal_is_in_korean_with_the_same_code(user_client, conversation):
    response = user_client.post(_messages_url(conversation), {"content": KOREAN}, format="json", **KO)
    assert response.status_code == 400 and response.json()["code"] == "context_length_exceeded"
    assert "메시지" in response.json()["detail"]
    translation.activate("en")


@pytest.mark.django_db
def test_a_new_chat_whose_first_message_is_too_long_leaves_nothing(user_client, small):
    response = user_client.post("/api/v1/conversations", {"model": "small", "message": KOREAN}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "context_length_exceeded"
    assert not Conversation.objects.exists() and not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_an_edit_too_long_is_refused(user_client, conversation):
    response = user_client.post(_messages_url(conversation), {"content": "short"}, format="json")
    assert response.status_code == 202
    Message.objects.filter(role=Role.ASSISTANT).update(status=MessageStatus.COMPLETE)
    entries = LedgerEntry.objects.count()
    question = Message.objects.get(role=Role.USER)
    response = user_client.post(
        f"/api/v1/conversations/{conversation.pk}/edit",
        {"message_id": str(question.pk), "content": KOREAN},
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "context_length_exceeded"
    assert LedgerEntry.objects.count() == entries and Message.objects.count() == 2


@pytest.mark.django_db
def test_the_chats_system_prompt_and_instructions_count_with_the_question(user, user_client, small):
    question = "word " * 400  # about 400 tokens: alone, it fits 1,024 with 256 kept for the answer
    plain = ConversationFactory(owner=user, model=small)
    assert user_client.post(_messages_url(plain), {"content": question}, format="json").status_code == 202
    pirate = ConversationFactory(owner=user, model=small, system_prompt="Answer in the style of a pirate. " * 60)
    response = user_client.post(_messages_url(pirate), {"content": question}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "context_length_exceeded"
    UserSettings.objects.filter(user=user).update(custom_instructions="Always answer in French. " * 80)
    other = ConversationFactory(owner=user, model=small)
    response = user_client.post(_messages_url(other), {"content": question}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "context_length_exceeded"


def test_the_check_asks_for_the_models_count_only_when_the_estimate_does_not_fit():
    model = LLMModel(pk=1, slug="m", provider="openai", context_window=1024, max_output_tokens=256)
    window.question_check(model=model, system="", question="word " * 400)  # fits by the estimate
    with pytest.raises(window.CountNeeded):
        window.question_check(model=model, system="", question="word " * 800)
    counted = window.Counted(1, "", "word " * 800, 700)  # what a tokenizer would have said
    window.question_check(model=model, system="", question="word " * 800, counted=counted)
    with pytest.raises(window.ContextLengthExceeded) as exc:
        window.question_check(
            model=model, system="", question="word " * 800, counted=window.Counted(1, "", "word " * 800, 769)
        )
    assert exc.value.param == "content"


@pytest.mark.django_db
def test_a_long_history_is_still_trimmed_not_refused(user_client, conversation):
    for _ in range(3):  # each alone fits; together they do not: the oldest go when a reply is made
        response = user_client.post(_messages_url(conversation), {"content": "word " * 500}, format="json")
        assert response.status_code == 202
        Message.objects.filter(role=Role.ASSISTANT).update(status=MessageStatus.COMPLETE, content="ok")


@pytest.mark.slow
def test_the_embedded_models_tokenizer_decides_when_the_estimate_would_refuse(
    transactional_db, user, auth_client, local_model
):
    """7,500 characters of English prose: the estimate (about 2,150 tokens) says they cannot fit
    the embedded model's 1,792 tokens of room, its tokenizer (about 1,520) says they do: sent, and
    sent whole (the reply's prompt is all of it, as the tokenizer counts it)."""
    smollm = LLMModelFactory(
        slug="smollm2-135m",
        provider="local",
        upstream_model="SmolLM2-135M-Instruct",
        base_url="",
        context_window=2048,
        max_output_tokens=16,
    )
    messages = [{"role": "user", "content": ENGLISH_7500}]
    provider = get_provider(smollm)
    assert provider.estimate_prompt(messages) + window.reply_room(smollm) > 2048
    conversation = ConversationFactory(owner=user, model=smollm)
    response = auth_client(user).post(_messages_url(conversation), {"content": ENGLISH_7500}, format="json")
    assert response.status_code == 202, response.json()
    reply = Message.objects.get(role=Role.ASSISTANT)
    deadline = time.monotonic() + 120
    while reply.status != MessageStatus.COMPLETE and time.monotonic() < deadline:
        time.sleep(0.2)
        reply.refresh_from_db()
    assert reply.status == MessageStatus.COMPLETE, (reply.status, reply.error)
    assert reply.prompt_tokens == provider.count_prompt_sync(messages) < 2048 - 16
