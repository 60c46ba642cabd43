"""Dates as people write them in each language ("26 novembre 2026", "2026年12月5日").

An ISO date (2026-11-26) in a French or Japanese reply is an English-speaking
programmer's fragment; every renderer formats dates here instead. Month names
are written out, since "05/12/2026" means May in the US and December in Europe.
"""

from __future__ import annotations

import datetime as dt

_MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio",
        "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
    ),
    "pt": (
        "janeiro", "fevereiro", "março", "abril", "maio", "junho",
        "julho", "agosto", "setembro", "outubro", "novembro", "dezembro",
    ),
    "de": (
        "Januar", "Februar", "März", "April", "Mai", "Juni",
        "Juli", "August", "September", "Oktober", "November", "Dezember",
    ),
    "it": (
        "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
        "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre",
    ),
}  # fmt: skip


def format_date(value: dt.date, language: str) -> str:
    """Write a date the way a reader of ``language`` does.

    Args:
        value: The date.
        language: ``en``, ``fr``, ``es``, ``pt``, ``de``, ``it`` or ``ja``
            (English for any other).

    Returns:
        ``26 November 2026``, ``26 novembre 2026``, ``1er décembre 2026``,
        ``5 de diciembre de 2026``, ``5 de dezembro de 2026``, ``5. Dezember 2026``,
        ``5 dicembre 2026``, ``2026年12月5日``.
    """
    day, year = value.day, value.year
    if language == "ja":
        return f"{year}年{value.month}月{day}日"
    months = _MONTHS.get(language, _MONTHS["en"])
    month = months[value.month - 1]
    if language == "fr":
        return f"{'1er' if day == 1 else day} {month} {year}"
    if language == "it":
        return f"{'1º' if day == 1 else day} {month} {year}"
    if language in ("es", "pt"):
        return f"{day} de {month} de {year}"
    if language == "de":
        return f"{day}. {month} {year}"
    return f"{day} {month} {year}"
