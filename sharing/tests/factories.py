from datetime import timedelta

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conversations.models import Conversation, LLMModel, Message, MessageStatus, Provider, Role
from sharing.models import Sample


class LLMModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LLMModel

    slug = factory.Sequence(lambda n: f"share-test-model-{n}")
    display_name = factory.Sequence(lambda n: f"Share Test Model {n}")
    provider = Provider.LOCAL
    upstream_model = "smollm2-135m-instruct"
    enabled = True
    is_default = False
    order = 90


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Conversation {n}")
    model = factory.SubFactory(LLMModelFactory)
    system_prompt = "SECRET-SYSTEM-PROMPT: be terse."


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    role = Role.USER
    content = factory.Sequence(lambda n: f"message {n}")
    status = MessageStatus.COMPLETE
    created_at = factory.LazyFunction(timezone.now)


def conversation_with_messages(*, owner, pairs=(("Hello?", "Hi! How can I help?"),), **kwargs) -> Conversation:
    """A conversation with a system message and ``pairs`` of (user, assistant) finished messages."""
    conversation = ConversationFactory(owner=owner, **kwargs)
    base = timezone.now() - timedelta(minutes=10)
    step = 0
    MessageFactory(conversation=conversation, role=Role.SYSTEM, content="SYSTEM-ROW-CONTENT", created_at=base)
    for question, answer in pairs:
        step += 1
        MessageFactory(
            conversation=conversation, role=Role.USER, content=question, created_at=base + timedelta(seconds=step)
        )
        step += 1
        MessageFactory(
            conversation=conversation,
            role=Role.ASSISTANT,
            content=answer,
            model=conversation.model,
            prompt_tokens=11,
            completion_tokens=7,
            created_at=base + timedelta(seconds=step),
        )
    return conversation


class SampleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sample

    title = factory.Sequence(lambda n: f"Sample {n}")
    description = "A curated example."
    messages = factory.LazyFunction(
        lambda: [
            {"role": "user", "content": "What is 2+2?", "created_at": timezone.now().isoformat()},
            {"role": "assistant", "content": "4.", "created_at": timezone.now().isoformat()},
        ]
    )
    message_count = 2
    published = True
