"""Dates and typography as readers of each language write them."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.render.dates import format_date
from bot.render.typography import NNBSP, typeset


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "5 December 2026"),
        ("fr", "5 décembre 2026"),
        ("es", "5 de diciembre de 2026"),
        ("pt", "5 de dezembro de 2026"),
        ("de", "5. Dezember 2026"),
        ("it", "5 dicembre 2026"),
        ("ja", "2026年12月5日"),
        ("xx", "5 December 2026"),
    ],
)
def test_dates_are_written_out_per_language(language: str, expected: str) -> None:
    assert format_date(dt.date(2026, 12, 5), language) == expected


def test_the_first_of_the_month_in_french() -> None:
    assert format_date(dt.date(2026, 11, 1), "fr") == "1er novembre 2026"
    assert format_date(dt.date(2026, 11, 26), "fr") == "26 novembre 2026"


def test_french_spacing_before_high_punctuation_but_not_in_urls_or_times() -> None:
    text = "Lequel ? Voici : https://x.com/a?b=1 à 10:30 ; « Grok » !"
    assert typeset(text, "fr") == (
        f"Lequel{NNBSP}? Voici{NNBSP}: https://x.com/a?b=1 à 10:30{NNBSP}; "
        f"«{NNBSP}Grok{NNBSP}»{NNBSP}!"
    )
    assert typeset(text, "en") == text
