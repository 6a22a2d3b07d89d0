import factory

from collector.models import Item, ItemKind, Tag
from tests.accounts.factories import UserFactory


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"tag-{n}")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    kind = ItemKind.NOTE
    title = factory.Sequence(lambda n: f"Note {n}")
    content = "Some reference text."

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)
