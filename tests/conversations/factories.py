import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from conversations.models import (
    Conversation,
    Feedback,
    LedgerEntry,
    LLMModel,
    Message,
    MessageStatus,
    Prompt,
    Role,
    Source,
)
from tests.accounts.factories import UserFactory


class LLMModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LLMModel
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"model-{n}")
    display_name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    provider = "openai"
    upstream_model = factory.LazyAttribute(lambda o: o.slug)
    base_url = "http://127.0.0.1:9/v1"
    enabled = True
    is_default = False
    order = 50


class PromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prompt

    title = factory.Sequence(lambda n: f"Prompt {n}")
    text = "Tell me about "
    category = "writing"


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Conversation {n}")
    model = factory.LazyFunction(lambda: LLMModel.objects.filter(is_default=True).first())


class MessageFactory(factory.django.DjangoModelFactory):
    """A finished message; rows made this way never start a generation."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    role = Role.USER
    content = factory.Sequence(lambda n: f"message {n}")
    status = MessageStatus.COMPLETE
    model = factory.SelfAttribute("conversation.model")
    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """As the services make a line: under the conversation's newest message made before it
        (unless ``parent`` is given), and its conversation's current leaf if it is the newest."""
        conversation = kwargs["conversation"]
        if "parent" not in kwargs:
            kwargs["parent"] = (
                Message.objects.filter(conversation=conversation, created_at__lte=kwargs["created_at"])
                .order_by("-created_at", "-id")
                .first()
            )
        parent = kwargs["parent"]
        kwargs.setdefault("depth", parent.depth + 1 if parent is not None else 0)
        message = super()._create(model_class, *args, **kwargs)
        newest = Message.objects.filter(conversation=conversation).order_by("-created_at", "-id").first()
        if newest is not None and newest.pk == message.pk:
            type(conversation).objects.filter(pk=conversation.pk).update(current_message=message)
            conversation.current_message_id = message.pk
        return message


class AssistantMessageFactory(MessageFactory):
    """A reply, with its ledger entry as the service writes it (``ledger=False``: none, as for
    imported or cloned history, or rows older than the ledger)."""

    class Meta:
        skip_postgeneration_save = True  # the hook writes another row, not this one

    role = Role.ASSISTANT
    content = "An answer."
    completion_tokens = 3
    prompt_tokens = 10

    @factory.post_generation
    def ledger(self, create, extracted, **kwargs):
        if create and extracted is not False:
            LedgerEntry.of_reply(self, conversation=self.conversation).save()


def turn(conversation: Conversation, *, question: str = "a question", **reply_fields) -> Message:
    """A message sent and its reply, as the service makes them (with the reply's ledger entry)."""
    # ``created_at`` is the reply's (and its entry's); the question comes a microsecond before.
    created_at = reply_fields.pop("created_at", None) or timezone.now()
    MessageFactory(conversation=conversation, content=question, created_at=created_at - timedelta(microseconds=1))
    return AssistantMessageFactory(conversation=conversation, created_at=created_at, **reply_fields)


class LedgerEntryFactory(factory.django.DjangoModelFactory):
    """A reply asked for, as the ledger keeps it, whether or not its conversation still exists."""

    class Meta:
        model = LedgerEntry

    user = factory.SubFactory(UserFactory)
    message_id = factory.LazyFunction(uuid.uuid4)
    source = Source.APP
    status = MessageStatus.COMPLETE
    created_at = factory.LazyFunction(timezone.now)


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feedback

    message = factory.SubFactory(AssistantMessageFactory)
    user = factory.SelfAttribute("message.conversation.owner")
    rating = "up"
