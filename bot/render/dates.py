"""Dates as people write them in each language ("26 novembre 2026", "2026年12月5日").

An ISO date (2026-11-26) in a French or Japanese reply is a programmer's
fragment; every renderer formats dates through :func:`format_date`. Month names
are written out, since "05/12/2026" means May in the US and December in Europe.

The knowledge base already writes facts' "as of" dates this way
(:func:`bot.kb.schema.format_date`); renderers use the very same function so a
reply never mixes two spellings of one date.
"""

from __future__ import annotations

from bot.kb.schema import format_date

__all__ = ["format_date"]
