"""The one rule for which model a user gets (conversations.model_choice) and its callers that
the API tests do not reach: a reply whose model is gone. Creating, changing and sending are covered
by test_api_conversations and test_api_messages; cloning by sharing's tests."""

import pytest

from accounts.models import Plan, UserSettings
from conversations.generation import rows
from conversations.model_choice import model_default, model_for, model_for_or_none
from conversations.models import LLMModel, MessageStatus
from core.exceptions import NotPermitted
from tests.conversations.factories import AssistantMessageFactory, ConversationFactory, LLMModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def default_model():
    return LLMModel.objects.get(is_default=True)


def only_for(model: LLMModel, plan_slug: str) -> LLMModel:
    model.plans.set([Plan.objects.get(slug=plan_slug)])
    return model


def test_the_default_is_the_enabled_model_marked_default(default_model):
    LLMModelFactory(order=0)
    assert model_default() == default_model


def test_without_a_usable_default_it_is_the_first_enabled_model_in_catalog_order(default_model):
    LLMModel.objects.filter(pk=default_model.pk).update(enabled=False)
    LLMModel.objects.exclude(pk=default_model.pk).update(order=50)
    first = LLMModelFactory(order=1)
    assert model_default() == first

    LLMModel.objects.update(enabled=False)
    assert model_default() is None


def test_a_preferred_model_is_kept_while_the_plan_includes_it(user):
    preferred = only_for(LLMModelFactory(), "free")
    assert model_for(user=user, preferred=preferred) == preferred


@pytest.mark.parametrize("why", ["disabled", "not in the plan"])
def test_an_unusable_preferred_model_gives_the_default(user, default_model, why):
    preferred = LLMModelFactory(enabled=why != "disabled")
    if why == "not in the plan":
        only_for(preferred, "pro")
    assert model_for(user=user, preferred=preferred) == default_model


def test_a_default_outside_the_plan_is_refused_or_none(user, default_model):
    only_for(default_model, "pro")

    with pytest.raises(NotPermitted) as exc:
        model_for(user=user, preferred=None)
    assert exc.value.code == "model_not_in_plan"
    assert model_for_or_none(user=user, preferred=None) is None

    UserSettings.objects.filter(user=user).update(plan=Plan.objects.get(slug="pro"))
    assert model_for_or_none(user=user, preferred=None) == default_model


def _reply_whose_model_is_gone(user):
    gone = LLMModelFactory()
    conversation = ConversationFactory(owner=user, model=gone)
    reply = AssistantMessageFactory(conversation=conversation, status=MessageStatus.PENDING, content="")
    gone.delete()  # SET_NULL on the conversation and the reply
    return reply


def test_a_reply_whose_model_was_deleted_runs_on_the_owners_default(user, default_model):
    reply = _reply_whose_model_is_gone(user)
    assert rows.reply_claim(message_id=reply.pk).model == default_model


def test_a_reply_whose_model_was_deleted_never_runs_on_a_model_outside_the_owners_plan(user, default_model):
    reply = _reply_whose_model_is_gone(user)
    only_for(default_model, "pro")
    # No model: the runner ends the reply with "no_model" rather than use one the plan excludes.
    assert rows.reply_claim(message_id=reply.pk).model is None
