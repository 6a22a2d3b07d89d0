import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from accounts.models import Plan, UserSettings
from conversations.models import Conversation, LLMModel, Message, MessageStatus, Role
from conversations.services import conversation_switch, message_regenerate
from core.exceptions import Conflict
from sharing import selectors, services
from sharing.models import Sample, Share

from .factories import LLMModelFactory, MessageFactory, conversation_with_messages

pytestmark = pytest.mark.django_db


def test_snapshot_holds_only_finished_user_and_assistant_messages(user):
    conversation = conversation_with_messages(owner=user, pairs=[("Q1", "A1")])
    MessageFactory(conversation=conversation, role=Role.USER, content="Q2")
    MessageFactory(conversation=conversation, role=Role.ASSISTANT, content="half a rep", status=MessageStatus.STREAMING)
    MessageFactory(conversation=conversation, role=Role.ASSISTANT, content="broken", status=MessageStatus.ERROR)

    share = services.share_create(user=user, conversation=conversation)

    assert [(m["role"], m["content"]) for m in share.messages] == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2")]
    assert set(share.messages[0]) == {"role", "content", "created_at"}
    assert share.message_count == 3
    assert share.title == conversation.title
    assert share.model_slug == conversation.model.slug


def _versions(owner):
    """Q1 A1 Q2 A2, then A2 regenerated (A2b, under Q2), then Q2 edited (under A1) and answered:
    the active path is Q1 A1 "Q2 edited" "A2 edited"."""
    conversation = conversation_with_messages(owner=owner, pairs=[("Q1", "A1"), ("Q2", "A2")])
    q2 = Message.objects.get(conversation=conversation, content="Q2")
    a1 = Message.objects.get(conversation=conversation, content="A1")
    MessageFactory(conversation=conversation, role=Role.ASSISTANT, content="A2b", parent=q2)
    edited = MessageFactory(conversation=conversation, role=Role.USER, content="Q2 edited", parent=a1)
    MessageFactory(conversation=conversation, role=Role.ASSISTANT, content="A2 edited", parent=edited)
    conversation.refresh_from_db()
    return conversation


def test_other_versions_are_left_out_of_shares_samples_and_their_clones(user, staff_user, outsider):
    conversation = _versions(user)
    visible = [("user", "Q1"), ("assistant", "A1"), ("user", "Q2 edited"), ("assistant", "A2 edited")]

    share = services.share_create(user=user, conversation=conversation)
    sample = services.sample_create_from_conversation(conversation=conversation, created_by=staff_user)

    for snapshot in (share, sample):
        assert [(m["role"], m["content"]) for m in snapshot.messages] == visible
        assert snapshot.message_count == 4
    clones = (services.share_clone(share=share, user=outsider), services.sample_clone(sample=sample, user=outsider))
    for clone in clones:
        rows = list(Message.objects.filter(conversation=clone).order_by("created_at", "id"))
        assert [(m.role, m.content) for m in rows] == visible
        # A line: each message under the one before, the last one current.
        assert [m.parent_id for m in rows] == [None, *(m.pk for m in rows[:-1])]
        assert [m.depth for m in rows] == [0, 1, 2, 3]
        assert clone.current_message_id == rows[-1].pk


def test_a_share_made_after_switching_to_an_older_version_shows_that_version(user, outsider):
    conversation = _versions(user)
    older = Message.objects.get(conversation=conversation, content="A2")
    conversation_switch(conversation=conversation, message_id=str(older.pk))

    share = services.share_create(user=user, conversation=conversation)
    assert [m["content"] for m in share.messages] == ["Q1", "A1", "Q2", "A2"]
    clone = services.share_clone(share=share, user=outsider)
    assert [m.content for m in clone.messages.order_by("created_at", "id")] == ["Q1", "A1", "Q2", "A2"]


def test_regenerating_or_switching_after_sharing_does_not_change_the_share(user):
    conversation = _versions(user)
    share = services.share_create(user=user, conversation=conversation)
    before = list(share.messages)
    reply = Message.objects.get(conversation=conversation, content="A2 edited")

    message_regenerate(conversation=conversation, user=user, message_id=str(reply.pk))
    conversation_switch(conversation=conversation, message_id=str(Message.objects.get(content="A2b").pk))

    share.refresh_from_db()
    assert share.messages == before
    assert [m["content"] for m in share.messages][-1] == "A2 edited"
    # Sharing again takes the path now read.
    again = services.share_create(user=user, conversation=conversation)
    assert [m["content"] for m in again.messages] == ["Q1", "A1", "Q2", "A2b"]


def test_a_conversation_whose_active_path_holds_nothing_finished_has_nothing_to_share(user):
    conversation = conversation_with_messages(owner=user, pairs=[("Q1", "A1")])
    # A new first message's reply that failed, read now: the finished other version is not shared.
    failed = MessageFactory(
        conversation=conversation, role=Role.ASSISTANT, content="broken", status=MessageStatus.ERROR, parent=None
    )
    assert Conversation.objects.get(pk=conversation.pk).current_message_id == failed.pk
    with pytest.raises(Conflict):
        services.share_create(user=user, conversation=conversation)


def test_later_messages_do_not_appear_and_sharing_again_makes_a_new_snapshot(user):
    conversation = conversation_with_messages(owner=user, pairs=[("Q1", "A1")])
    first = services.share_create(user=user, conversation=conversation)
    MessageFactory(conversation=conversation, role=Role.USER, content="after sharing")

    first.refresh_from_db()
    assert "after sharing" not in [m["content"] for m in first.messages]

    second = services.share_create(user=user, conversation=conversation)
    assert second.pk != first.pk
    assert [m["content"] for m in second.messages][-1] == "after sharing"
    assert first.message_count == 2 and second.message_count == 3


def test_share_ids_are_long_random_and_url_safe(user):
    conversation = conversation_with_messages(owner=user)
    ids = {services.share_create(user=user, conversation=conversation).pk for _ in range(20)}
    assert len(ids) == 20
    for share_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", share_id)
        # base64url: 6 bits per character; at least 128 random bits.
        assert len(share_id) * 6 >= 128
        assert str(conversation.pk) not in share_id


def test_empty_conversation_cannot_be_shared(user):
    conversation = conversation_with_messages(owner=user, pairs=[])
    with pytest.raises(Conflict) as exc:
        services.share_create(user=user, conversation=conversation)
    assert exc.value.code == "nothing_to_share"


def test_past_expiry_is_refused(user):
    conversation = conversation_with_messages(owner=user)
    with pytest.raises(ValidationError) as exc:
        services.share_create(user=user, conversation=conversation, expires_at=timezone.now() - timedelta(seconds=1))
    assert "expires_at" in exc.value.message_dict


def test_someone_elses_conversation_is_refused(user, outsider):
    conversation = conversation_with_messages(owner=user)
    with pytest.raises(ValidationError):
        services.share_create(user=outsider, conversation=conversation)
    assert not Share.objects.exists()


def test_revoked_and_expired_shares_are_not_public(user):
    conversation = conversation_with_messages(owner=user)
    live = services.share_create(user=user, conversation=conversation)
    revoked = services.share_revoke(share=services.share_create(user=user, conversation=conversation))
    soon = timezone.now() + timedelta(hours=1)
    expired = services.share_create(user=user, conversation=conversation, expires_at=soon)
    Share.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert selectors.share_get_public(share_id=live.pk) == live
    for share in (revoked, expired):
        with pytest.raises(Http404):
            selectors.share_get_public(share_id=share.pk)


def test_view_count_goes_up_by_one_per_view(user):
    share = services.share_create(user=user, conversation=conversation_with_messages(owner=user))
    for _ in range(3):
        services.share_register_view(share=share)
    share.refresh_from_db()
    assert share.view_count == 3


def test_clone_copies_the_snapshot_into_a_conversation_of_the_caller(user, outsider):
    conversation = conversation_with_messages(owner=user, pairs=[("Q1", "A1"), ("Q2", "A2")])
    share = services.share_create(user=user, conversation=conversation)

    clone = services.share_clone(share=share, user=outsider)

    assert clone.owner == outsider
    assert (clone.origin_kind, clone.origin_id) == ("share", share.pk)
    assert clone.model == conversation.model
    assert clone.system_prompt == ""  # the original's system prompt was never shared
    rows = list(Message.objects.filter(conversation=clone).order_by("created_at", "id"))
    assert [(m.role, m.content, m.status) for m in rows] == [
        ("user", "Q1", "complete"),
        ("assistant", "A1", "complete"),
        ("user", "Q2", "complete"),
        ("assistant", "A2", "complete"),
    ]
    assert len({m.created_at for m in rows}) == 4  # strictly ordered, not tied
    assert rows[-1].created_at <= timezone.now()


def test_clone_falls_back_to_an_enabled_model_when_the_original_is_disabled(user, outsider):
    conversation = conversation_with_messages(owner=user)
    share = services.share_create(user=user, conversation=conversation)
    conversation.model.enabled = False
    conversation.model.save()
    fallback = LLMModelFactory()

    clone = services.share_clone(share=share, user=outsider)

    assert clone.model is not None
    assert clone.model.enabled
    assert clone.model != conversation.model
    # The default model when there is one (the seeded catalog), else the first enabled one.
    assert clone.model.is_default or clone.model == fallback


def test_deleting_the_source_conversation_keeps_the_share(user):
    conversation = conversation_with_messages(owner=user, pairs=[("Q1", "A1")])
    share = services.share_create(user=user, conversation=conversation)
    Conversation.objects.filter(pk=conversation.pk).delete()

    share = selectors.share_get_public(share_id=share.pk)
    assert share.source_conversation_id is None
    assert [m["content"] for m in share.messages] == ["Q1", "A1"]


def test_sample_from_conversation_publish_unpublish_and_clone(user, staff_user, outsider):
    conversation = conversation_with_messages(owner=user, pairs=[("Q1", "A1")])
    sample = services.sample_create_from_conversation(
        conversation=conversation, created_by=staff_user, title="Nice one", description="Shows off."
    )
    assert sample.published and sample.message_count == 2 and sample.created_by == staff_user

    assert services.samples_set_published(samples=Sample.objects.filter(pk=sample.pk), published=False) == 1
    assert list(selectors.sample_list_public()) == []
    assert services.samples_set_published(samples=Sample.objects.filter(pk=sample.pk), published=True) == 1
    assert list(selectors.sample_list_public()) == [sample]

    clone = services.sample_clone(sample=sample, user=outsider)
    assert (clone.owner, clone.origin_kind, clone.origin_id) == (outsider, "sample", str(sample.pk))
    assert clone.messages.count() == 2


def test_publishing_a_published_sample_writes_nothing(user, django_assert_num_queries):
    sample = services.sample_create_from_conversation(
        conversation=conversation_with_messages(owner=user), created_by=None
    )
    with django_assert_num_queries(1):  # one UPDATE that finds nothing to change
        assert services.samples_set_published(samples=Sample.objects.filter(pk=sample.pk), published=True) == 0


# --- the cloner's model -----------------------------------------------------------------------


def _plan(user, slug):
    UserSettings.objects.filter(user=user).update(plan=Plan.objects.get(slug=slug))


def test_a_clone_gets_the_snapshots_model_only_if_the_cloners_plan_includes_it(user, outsider):
    conversation = conversation_with_messages(owner=user)
    conversation.model.plans.set([Plan.objects.get(slug="pro")])
    _plan(user, "pro")
    share = services.share_create(user=user, conversation=conversation)

    assert services.share_clone(share=share, user=outsider).model == LLMModel.objects.get(is_default=True)

    _plan(outsider, "pro")
    assert services.share_clone(share=share, user=outsider).model == conversation.model


def test_a_clone_is_made_without_a_model_when_the_cloners_plan_includes_no_usable_one(user, outsider):
    conversation = conversation_with_messages(owner=user)
    share = services.share_create(user=user, conversation=conversation)
    pro_only = [Plan.objects.get(slug="pro")]
    conversation.model.plans.set(pro_only)
    LLMModel.objects.get(is_default=True).plans.set(pro_only)

    clone = services.share_clone(share=share, user=outsider)

    # Sending in it then says which model the plan lacks, as for any conversation.
    assert clone.model is None
    assert clone.messages.count() == 2


# --- titles -----------------------------------------------------------------------------------


def test_a_share_title_is_given_title_then_conversation_title_then_first_question(user):
    question = "Plan   my\ttrip to Kyoto in autumn, with temples, gardens and where to eat\nSecond line"
    conversation = conversation_with_messages(owner=user, pairs=[(question, "Sure.")], title="")

    given = services.share_create(user=user, conversation=conversation, title="  Kyoto\x07\n trip ")
    untitled = services.share_create(user=user, conversation=conversation)
    conversation.title = "Autumn in Kyoto"
    titled = services.share_create(user=user, conversation=conversation, title="   ")

    assert given.title == "Kyoto trip"
    # The same title the conversation would have been given after its first reply.
    assert untitled.title == "Plan my trip to Kyoto in autumn, with temples, gardens and"
    assert titled.title == "Autumn in Kyoto"


def test_a_share_of_an_untitled_conversation_with_no_question_has_the_default_title(user):
    conversation = conversation_with_messages(owner=user, pairs=[], title="")
    MessageFactory(conversation=conversation, role=Role.ASSISTANT, content="Hello!")
    assert services.share_create(user=user, conversation=conversation).title == services.DEFAULT_SHARE_TITLE


def test_a_too_long_title_is_refused_for_shares_and_samples(user):
    conversation = conversation_with_messages(owner=user)
    with pytest.raises(ValidationError) as exc:
        services.share_create(user=user, conversation=conversation, title="x" * 201)
    assert "title" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.sample_create_from_conversation(conversation=conversation, created_by=None, title="x" * 201)


def test_a_clone_takes_the_snapshot_title_tidied(user, outsider):
    share = services.share_create(user=user, conversation=conversation_with_messages(owner=user))
    # (A control character PostgreSQL can store: it refuses NUL outright.)
    Share.objects.filter(pk=share.pk).update(title="Edited\x07 in\n the admin")
    share.refresh_from_db()

    assert services.share_clone(share=share, user=outsider).title == "Edited in the admin"
