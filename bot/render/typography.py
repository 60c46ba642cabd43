"""Typography of each language, applied to plain text (never to links or URLs).

French sets a narrow no-break space (U+202F) before ``; : ! ?`` and inside
« guillemets »; without it a phone may wrap the "?" alone onto the next line.
"""

from __future__ import annotations

import re

NNBSP = "\u202f"
# Punctuation after a word (or a closing quote), then a space or the end: never
# the colon of "https://" or of "10:30".
_HIGH_PUNCT = re.compile(r"(?<=\S)[ \u00a0\u202f]?([;:!?])(?=\s|$|[»\"”)])")
_OPEN_QUOTE = re.compile(r"«[ \u00a0\u202f]?")
_CLOSE_QUOTE = re.compile(r"[ \u00a0\u202f]?»")


def french_spacing(text: str) -> str:
    """Put a narrow no-break space before ``; : ! ?`` and inside « »."""
    text = _HIGH_PUNCT.sub(lambda m: NNBSP + m.group(1), text)
    text = _OPEN_QUOTE.sub("«" + NNBSP, text)
    return _CLOSE_QUOTE.sub(NNBSP + "»", text)


def typeset(text: str, language: str) -> str:
    """Apply the typography of ``language`` to a plain-text fragment."""
    return french_spacing(text) if language == "fr" else text
