"""Input serializers whose JSON types are the ones the OpenAPI document declares.

DRF is lenient: a boolean field takes ``0``, ``"yes"`` or ``"on"``, a string field takes ``7``, an
integer field ``"7"`` or ``7.0``. A client that sends the wrong type has a bug it should hear about,
and the schema must tell the truth, so input serializers (``InputSerializer``) refuse other JSON
types with a 400 naming the field. Query strings and multipart forms carry only text and keep
DRF's parsing.
"""

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

# Whole sentences per type (a translation cannot be assembled from pieces).
_MUST_BE = {
    bool: _("Must be true or false."),
    str: _("Must be a string."),
    int: _("Must be an integer."),
    float: _("Must be a number."),
    list: _("Must be a list."),
}
_EVERY_ELEMENT_MUST_BE = {
    bool: _("Every element must be true or false."),
    str: _("Every element must be a string."),
    int: _("Every element must be an integer."),
    float: _("Every element must be a number."),
    list: _("Every element must be a list."),
}


def _json_type(field: serializers.Field) -> type | None:
    if isinstance(field, serializers.BooleanField):
        return bool
    if isinstance(field, serializers.ChoiceField):
        choices = list(field.choices)
        return str if choices and all(isinstance(c, str) for c in choices) else None
    if isinstance(field, serializers.CharField | serializers.UUIDField | serializers.DateTimeField):
        return str
    if isinstance(field, serializers.DateField):
        return str
    if isinstance(field, serializers.IntegerField):
        return int
    if isinstance(field, serializers.FloatField):
        return float
    if isinstance(field, serializers.ListField):
        return list
    return None


def _is_a(value, expected: type) -> bool:
    if expected is float:  # a JSON number: 1 and 1.5 alike
        return isinstance(value, int | float) and not isinstance(value, bool)
    # bool is an int to Python, not to JSON.
    return isinstance(value, expected) and (expected is bool or not isinstance(value, bool))


def wrong_json_types(fields, data: Mapping) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, field in fields.items():
        if field.read_only or name not in data or data[name] is None:
            continue
        expected = _json_type(field)
        if expected is None:
            continue
        value = data[name]
        if not _is_a(value, expected):
            errors[name] = [str(_MUST_BE[expected])]
        elif expected is list and (child := _json_type(field.child)) is not None:
            if not all(_is_a(item, child) for item in value):
                errors[name] = [str(_EVERY_ELEMENT_MUST_BE[child])]
    return errors


if TYPE_CHECKING:
    _SerializerBase = serializers.Serializer
else:
    _SerializerBase = object


class StrictJSONInput(_SerializerBase):
    def to_internal_value(self, data):
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = wrong_json_types(self.fields, data)
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


# The base of every serializer that reads a request body. (A comment, not a docstring: the
# OpenAPI document would give it as the description of every request body without one.)
class InputSerializer(StrictJSONInput, serializers.Serializer):
    pass


class DateTimeField(serializers.DateTimeField):
    """DRF's date-time in the request's time zone (the user's, ``accounts.preferences``), except
    where that zone's offset has seconds: before standard time (a US zone before 1883, Seoul before
    1908) zones ran on local mean time (``-06:06:28``), which RFC 3339 cannot write. Such a time
    goes out in UTC, the same instant."""

    def enforce_timezone(self, value):
        value = super().enforce_timezone(value)
        offset = value.utcoffset() if hasattr(value, "utcoffset") else None
        if offset is not None and (offset.seconds % 60 or offset.microseconds):
            return value.astimezone(datetime.UTC)
        return value


def use_zone_safe_date_times() -> None:
    """Every model serializer's date-time fields are ``DateTimeField`` above (the declared ones
    name it themselves)."""
    serializers.ModelSerializer.serializer_field_mapping[models.DateTimeField] = DateTimeField
