"""What every resource viewset shares: routers without trailing slashes and public reads.

A viewset's ``get_queryset`` calls its app's owner-scoped selector, so DRF's ``get_object`` is the
one place where "yours or 404" is decided: another user's object is simply not in the queryset.
"""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from django.http import HttpResponseBase
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

# Django's <uuid:...> converter: lower-case hex only. Anything else never reaches a view (JSON 404).
UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
INT_PATTERN = "[0-9]{1,18}"  # fits a bigint, so a long number is a 404 rather than a database error


def api_router() -> SimpleRouter:
    """Paths as the contract writes them: ``/todos``, ``/todos/{id}``, never a trailing slash."""
    return SimpleRouter(trailing_slash=False)


if TYPE_CHECKING:
    _ViewSetBase = GenericViewSet
else:
    _ViewSetBase = object


class PublicActionsMixin(_ViewSetBase):
    """The viewset's ``public_actions`` are open to anyone and ignore whatever credentials come
    with them: a stale bearer token must not turn a public read into a 401. Every other action keeps
    the normal authentication and ``permission_classes``.

    DRF asks for authenticators before it sets ``self.action``, so the action is looked up from the
    method here (``action_map`` is set by the router, and by drf-spectacular for the schema).
    """

    public_actions: frozenset[str] = frozenset()

    def is_public_action(self) -> bool:
        request = getattr(self, "request", None)
        if request is None:
            return False
        action = self.action_map.get(request.method.lower())
        # A method the viewset does not serve answers 405 to anyone, not 401 to a stale token.
        return action is None or action in self.public_actions

    def get_permissions(self):
        return [AllowAny()] if self.is_public_action() else super().get_permissions()

    def get_authenticators(self):
        return [] if self.is_public_action() else super().get_authenticators()


# An APIView for the OpenAPI document only: its methods carry the ``extend_schema`` of an async
# function view (``serve``), which ``as_view()`` hands Django. DRF's views are sync, and a client
# waiting on a stream must not hold a thread. (Comments, not a docstring: the document would show
# it as an operation's description.)
class AsyncViewDocs(APIView):
    serve: Callable[..., Awaitable[HttpResponseBase]]  # staticmethod(the async view)

    @classmethod
    def as_view(cls, **initkwargs):
        serve = cls.serve

        async def view(request, *args, **kwargs):
            return await serve(request, *args, **kwargs)

        # What drf-spectacular reads, and no CSRF check: bearer credentials come in a header, never a cookie.
        view.__dict__.update(cls=cls, initkwargs=initkwargs, csrf_exempt=True)
        return view
