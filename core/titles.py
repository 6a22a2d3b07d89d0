"""One rule for titles (conversations, shares, samples, collector items, todos).

A title is one line people read in lists: control characters are dropped, every run of
whitespace (newlines and tabs too) becomes one space, and the ends are trimmed. A title a person
typed that is still too long is refused, as the API's serializers refuse it; a title we derive
(from a URL, a file name, a snapshot, a first question) is cut to fit instead, since nobody
could fix it.
"""

import unicodedata
from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _one_line(value: str | None) -> str:
    # Whitespace control characters (\t, \n, \r...) are kept until split() turns them into spaces.
    visible = "".join(char for char in value or "" if char.isspace() or unicodedata.category(char) != "Cc")
    return " ".join(visible.split())


def title_fit(value: str | None, *, max_length: int) -> str:
    """A derived title: tidied and cut to ``max_length``."""
    return _one_line(value)[:max_length].rstrip()


def title_clean(value: str | None, *, max_length: int, fallback: str = "") -> str:
    """A title given by a person, as stored; a blank one becomes ``fallback`` (tidied and cut).

    Raises ``ValidationError`` on ``title`` (code ``max_length``) when longer than ``max_length``.
    """
    title = _one_line(value)
    if len(title) > max_length:
        # DRF's own words for a field too long (its catalogs translate them too).
        message = _("Ensure this field has no more than {max_length} characters.").format(max_length=max_length)
        refused = ValidationError(message, code="max_length")
        raise ValidationError({"title": [refused]})
    return title or title_fit(fallback, max_length=max_length)


# Left dangling at a cut: spaces and the punctuation that only joins what follows (Latin and CJK).
_DANGLING = " ,.;:-·、，。；：…"
ELLIPSIS = "…"


def cut_at_word(text: str, *, max_length: int) -> str:
    """``text`` (one line) within ``max_length`` characters, cut at the last space that fits, so
    no word is cut in two (Korean words too: its words are spaced). With no such space (one long
    word, or a run of text written without spaces) it is cut hard and ends with "…". Punctuation
    left dangling at a cut is dropped."""
    if len(text) <= max_length:
        return text
    space = text[: max_length + 1].rfind(" ")
    if space > 0:
        return text[:space].rstrip(_DANGLING)
    return text[: max(max_length - 1, 0)].rstrip(_DANGLING) + ELLIPSIS


def title_from_text(text: str | None, *, max_length: int) -> str:
    """A title from free text (a first question): its first non-blank line, cut at a word
    (``cut_at_word``)."""
    first_line = next((line for line in (_one_line(raw) for raw in (text or "").splitlines()) if line), "")
    return cut_at_word(first_line, max_length=max_length)


if TYPE_CHECKING:
    _ModelFormBase = forms.ModelForm
else:
    _ModelFormBase = object


class TitleFormMixin(_ModelFormBase):
    """For admin model forms: a title staff type follows the same rule as a title typed in the app
    (one line, no control characters, refused when too long)."""

    def clean_title(self):
        max_length = self._meta.model._meta.get_field("title").max_length
        try:
            return title_clean(self.cleaned_data.get("title"), max_length=max_length)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["title"]) from exc
