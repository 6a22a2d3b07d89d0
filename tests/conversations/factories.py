import factory
from django.utils import timezone

from conversations.models import Conversation, Feedback, LLMModel, Message, MessageStatus, Prompt, Role
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


class AssistantMessageFactory(MessageFactory):
    role = Role.ASSISTANT
    content = "An answer."
    completion_tokens = 3
    prompt_tokens = 10


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feedback

    message = factory.SubFactory(AssistantMessageFactory)
    user = factory.SelfAttribute("message.conversation.owner")
    rating = "up"
