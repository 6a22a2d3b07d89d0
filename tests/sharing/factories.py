from datetime import timedelta

import factory
from django.utils import timezone

from conversations.models import Conversation, Provider, Role
from sharing.models import Sample
from tests.conversations import factories as conversation_factories


class LLMModelFactory(conversation_factories.LLMModelFactory):
    """A local model, so a clone can be continued with a real reply."""

    slug = factory.Sequence(lambda n: f"share-test-model-{n}")
    provider = Provider.LOCAL
    upstream_model = "smollm2-135m-instruct"
    base_url = ""
    order = 90


class ConversationFactory(conversation_factories.ConversationFactory):
    model = factory.SubFactory(LLMModelFactory)
    # Shares must never leak it: tests look for this marker in every public payload.
    system_prompt = "SECRET-SYSTEM-PROMPT: be terse."


MessageFactory = conversation_factories.MessageFactory


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
