"""The admin's labels of fields named after themselves are in the catalogs, and read in Korean."""

from django.utils import translation

from accounts.models import User, UserSettings
from console.field_labels import FIELD_LABELS, our_fields


def test_every_label_named_after_its_field_is_listed():
    # A new field without a verbose_name must join console/field_labels.py (and the catalogs).
    missing = sorted({str(f.verbose_name) for f in our_fields()} - set(FIELD_LABELS))
    assert missing == []


def test_the_labels_follow_the_language():
    display_name = User._meta.get_field("display_name")
    time_zone = UserSettings._meta.get_field("time_zone")
    with translation.override("ko"):
        assert (str(display_name.verbose_name), str(time_zone.verbose_name)) == ("표시명", "시간대")
    with translation.override("en"):
        assert (str(display_name.verbose_name), str(time_zone.verbose_name)) == ("display name", "time zone")
    # What migrations read is untouched: no migration for a label.
    assert display_name.deconstruct()[3].get("verbose_name") is None
