"""The one title rule (core.titles); each app's tests check that its services use it."""

import pytest
from django.core.exceptions import ValidationError

from core.titles import title_clean, title_fit, title_from_text


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("  My   chat ", "My chat"),
        ("line one\nline two\ttabbed", "line one line two tabbed"),
        ("bell\x07 and\x00 null\x1b[31m red", "bell and null[31m red"),
        ("a \x07 b", "a b"),
        ("\u2028Unicode\u00a0spaces\u3000too\u0085", "Unicode spaces too"),
        ("Café 👩‍💻 naïve", "Café 👩‍💻 naïve"),
        ("", ""),
        (None, ""),
        (" \x00\x07 ", ""),
    ],
)
def test_title_clean_drops_control_characters_and_collapses_whitespace(given, stored):
    assert title_clean(given, max_length=200) == stored


def test_title_clean_measures_the_cleaned_title_and_refuses_a_longer_one():
    assert title_clean("x" * 10, max_length=10) == "x" * 10
    assert title_clean("  " + "x " * 5 + "\n\n", max_length=9) == "x x x x x"

    with pytest.raises(ValidationError) as exc:
        title_clean("x" * 11, max_length=10)
    assert exc.value.message_dict == {"title": ["Ensure this field has no more than 10 characters."]}
    assert exc.value.error_dict["title"][0].code == "max_length"


def test_a_blank_title_takes_the_fallback_tidied_and_cut_to_fit():
    assert title_clean("  \t", max_length=10, fallback="  Fall\nback  ") == "Fall back"
    assert title_clean("", max_length=9, fallback="a fallback far too long") == "a fallbac"
    assert title_clean("", max_length=11, fallback="a fallback far too long") == "a fallback"  # no trailing space
    assert title_clean("given", max_length=10, fallback="unused") == "given"


def test_title_fit_cuts_instead_of_refusing():
    assert title_fit("https://example.com/" + "a" * 300, max_length=200) == ("https://example.com/" + "a" * 300)[:200]
    assert title_fit("two words", max_length=4) == "two"
    assert title_fit("ok\x07", max_length=200) == "ok"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("How do I sort a list in Python?", "How do I sort a list in Python?"),
        ("\n\n  Plan   my\ttrip  \nto Kyoto in autumn", "Plan my trip"),
        (
            "Explain the difference between processes and threads in operating systems, with examples",
            "Explain the difference between processes and threads in",
        ),
        ("x" * 80, "x" * 59 + "…"),  # one long word: cut hard, and said to be
        # Korean words are spaced: cut between them, never inside one.
        (
            "서울에서 부산까지 기차로 가는 가장 빠른 방법과 요금을 "
            "비교해서 알려주실 수 있나요? 주말과 평일 기준으로 각각 알려주세요",
            "서울에서 부산까지 기차로 가는 가장 빠른 방법과 요금을 비교해서 알려주실 수 있나요? 주말과 평일 기준으로",
        ),
        ("마크다운으로작성된문서를" * 8, ("마크다운으로작성된문서를" * 8)[:59] + "…"),  # no space at all
        (
            "오늘 회의에서 나온 안건을 정리해 주세요: 예산, 일정, 인력 배치, "
            "외부 협력사 선정, 대외 홍보 계획, 그리고 다음 회의 날짜까지요",
            # no dangling comma
            "오늘 회의에서 나온 안건을 정리해 주세요: 예산, 일정, 인력 배치, 외부 협력사 선정, 대외 홍보 계획",
        ),
        (
            "Summarise the following points for me: speed, cost, safety, and then reliability",
            "Summarise the following points for me: speed, cost, safety",  # no dangling comma
        ),
        ("\x07\x00\n\x1b\nSecond line wins", "Second line wins"),
        ("", ""),
        (None, ""),
    ],
)
def test_title_from_text_takes_the_first_line_cut_at_a_word(text, title):
    made = title_from_text(text, max_length=60)
    assert made == title
    assert len(made) <= 60
