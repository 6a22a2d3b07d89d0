import factory

from tests.accounts.factories import UserFactory
from todos.models import Todo


class TodoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Todo

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Todo {n}")
    description = ""
    todo_date = None
    complete = False
