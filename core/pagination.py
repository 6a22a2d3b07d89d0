"""Pagination whose query parameters are validated as the schema declares them: a page size or
page number that is not a whole number in range is a 400 naming the parameter, never silently
replaced by a default (DRF's own behaviour)."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination

_MAX_PAGE = 10**9


def _whole_number(request, name: str, *, maximum: int, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not 1 <= int(raw) <= maximum:
        raise ValidationError({name: [_("A whole number from 1 to %(maximum)d.") % {"maximum": maximum}]})
    return int(raw)


def _declare_bounds(parameters: list[dict], bounds: dict[str, int]) -> list[dict]:
    for parameter in parameters:
        if parameter["name"] in bounds:
            parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": bounds[parameter["name"]]}
    return parameters


class DefaultPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()  # only numbers: the schema says "integer"

    def get_page_size(self, request):
        return _whole_number(request, self.page_size_query_param, maximum=self.max_page_size, default=self.page_size)

    def get_page_number(self, request, paginator):
        # A number past the last page stays a 404 ("Invalid page"), as the schema documents.
        return _whole_number(request, self.page_query_param, maximum=_MAX_PAGE, default=1)

    def get_schema_operation_parameters(self, view):
        bounds = {self.page_query_param: _MAX_PAGE, self.page_size_query_param: self.max_page_size}
        return _declare_bounds(super().get_schema_operation_parameters(view), bounds)


class OldestFirstCursorPagination(CursorPagination):
    """Stable pages over an append-only list (messages): new rows never shift a page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("created_at", "id")

    def get_page_size(self, request):
        return _whole_number(request, self.page_size_query_param, maximum=self.max_page_size, default=self.page_size)

    def get_schema_operation_parameters(self, view):
        bounds = {self.page_size_query_param: self.max_page_size}
        return _declare_bounds(super().get_schema_operation_parameters(view), bounds)
