import factory

from accounts import services
from accounts.models import User

DEFAULT_PASSWORD = "Correct-Horse-9"  # noqa: S105 (test fixture)


class UserFactory(factory.django.DjangoModelFactory):
    """Users are created through the service, so each one gets its settings and plan."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Faker("name")
    password = DEFAULT_PASSWORD
    is_staff = False

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.user_create(**kwargs)
