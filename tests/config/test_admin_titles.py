"""Titles staff type in the admin follow the same rule as titles typed in the app."""

import pytest
from django.forms.models import model_to_dict

from conversations.admin import ConversationAdminForm
from sharing import services as sharing_services
from sharing.admin import SampleAdminForm, ShareAdminForm
from tests.conversations.factories import ConversationFactory
from tests.sharing.factories import conversation_with_messages

pytestmark = pytest.mark.django_db

MESSY = "  Quarterly\x07 plan\n\tdraft  "


def _form(form_class, instance, **changes):
    data = {k: v for k, v in model_to_dict(instance).items() if v is not None}
    return form_class(data={**data, **changes}, instance=instance)


def test_conversation_title_is_tidied(user):
    form = _form(ConversationAdminForm, ConversationFactory(owner=user), title=MESSY)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["title"] == "Quarterly plan draft"


def test_share_and_sample_titles_are_tidied_and_too_long_is_refused(user, staff_user):
    conversation = conversation_with_messages(owner=user)
    share = sharing_services.share_create(user=user, conversation=conversation)
    sample = sharing_services.sample_create_from_conversation(conversation=conversation, created_by=staff_user)
    for form_class, instance in ((ShareAdminForm, share), (SampleAdminForm, sample)):
        form = _form(form_class, instance, title=MESSY)
        form.is_valid()
        assert form.cleaned_data.get("title") == "Quarterly plan draft", (form_class, form.errors)
        too_long = _form(form_class, instance, title="x" * 1000)
        assert not too_long.is_valid() and "title" in too_long.errors
