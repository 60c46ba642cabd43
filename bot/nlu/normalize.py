"""Turning what people type into comparable tokens.

People write "Twitter" for X, "xAI" for Grok, "tweets" or "publications" for
posts, drop accents, add emoji, @mentions and links. All of that is folded here
so that the matcher compares words, not spellings. Everything is linear in the
length of the text, and long texts are cut: a question does not need more than
a few thousand characters to be understood.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

MAX_CHARS = 4000
"""Only this many characters of a message are read (a 100 kB message is cut)."""

_URL = re.compile(r"(?:https?://|www\.)\S{0,500}", re.IGNORECASE)
# Bluesky handles (@name.bsky.social) and Telegram usernames (@name_bot).
_MENTION = re.compile(r"@[\w.\-]{1,253}")
_PHRASES = [
    (re.compile(r"\bx\s*\.\s*com\b"), " x "),
    (re.compile(r"\bopt(?:ing|ed)?\s*-?\s*out\b"), " optout "),
    (re.compile(r"\bthird\s*-?\s*part(?:y|ies)\b"), " thirdparty "),
    (
        re.compile(r"\bdes\s+tiers\b|\baux\s+tiers\b|\bparties\s+tierces\b|\btierces?\s+parties\b"),
        " thirdparty ",
    ),
    (re.compile(r"\bchat\s*-?\s*gpt\b"), " chatgpt "),
    (re.compile(r"\bopen\s*-?\s*ai\b"), " openai "),
    (re.compile(r"\bx\s*-?\s*ai\b"), " grok "),
    # The separate Grok app / grok.com is its own topic; "app" alone only names a surface.
    (
        re.compile(
            r"\bgrok\s*\.\s*com\b|\bgrok\s+(?:app|apps|appli|application|standalone)\b"
            r"|\b(?:app|appli|application)\s+(?:de\s+)?grok\b"
        ),
        " grok grokapp ",
    ),
    # "What can you do?" is made of stop words only; keep its meaning.
    (
        re.compile(
            r"\b(?:what|wat|wut)\s+(?:can|could|do)\s+(?:you|u|ya)\s+(?:do|help)\b"
            r"|\b(?:tu|vous)\s+(?:peux|peut|pouvez|sais|savez)\s+faire\b"
            r"|\b(?:peux|sais|pouvez|savez)[\s-]+(?:tu|vous)\s+faire\b"
        ),
        " capabilities ",
    ),
    (re.compile(r"\bblue\s*sky\b"), " bluesky "),
    (re.compile(r"\blinked\s*-?\s*in\b"), " linkedin "),
    (re.compile(r"\bface\s*-?\s*book\b"), " facebook "),
    (re.compile(r"\bsign\s*-?\s*out\b|\blog\s*-?\s*out\b"), " logout "),
]
_TOKEN = re.compile(r"[a-z0-9]+")
# Runs of whitespace are folded to one space before the phrase rules: their
# ``\s*-?\s*`` would otherwise backtrack quadratically over a long run of spaces.
_SPACES = re.compile(r"\s+")

SYNONYMS: dict[str, str] = {
    # X is still called Twitter by most people.
    "twitter": "x",
    "twiter": "x",
    "twitt": "x",
    "twitterx": "x",
    "tweet": "post",
    "tweets": "post",
    "tweeted": "post",
    "tweete": "post",
    "tweetes": "post",
    "twit": "post",
    "twits": "post",
    "publication": "post",
    "publications": "post",
    "posts": "post",
    "xai": "grok",
    # AI vocabulary in French and English.
    "ia": "ai",
    "ias": "ai",
    "ki": "ai",
    "fb": "facebook",
    "insta": "instagram",
    "ig": "instagram",
    "gpt": "chatgpt",
    "bard": "gemini",
    "bsky": "bluesky",
    "annonce": "ads",
    "annonces": "ads",
    "convo": "conversation",
    "convos": "conversation",
    "pub": "ads",
    "pubs": "ads",
    "publicite": "ads",
    "publicites": "ads",
    "advertising": "ads",
    "ad": "ads",
    "iphone": "ios",
    "ipad": "ios",
}

STOPWORDS: frozenset[str] = frozenset(
    """
    a an the and or but if of to in on at by for with from into about as is are was were be been
    am do does did doing done i me my mine myself we our us it its this that these those there here
    what which who whom how why when where can could would should will shall may might must
    have has had having so such than then too very just also any some all each every other
    please pls plz plez lol lmao omg hey hi hello thanks thank thx ok okay yo bro guys
    your yours im ive dont cant wont doesnt isnt hm hmm um uh like really actually still
    get got know want need wanna gonna one way anyone someone something thing things more
    le la les l un une des de d du au aux et ou mais si en dans sur pour par avec sans sous
    ce cet cette ces c ca cela ceci qui que qu quoi quel quelle quels quelles comment pourquoi
    est sont etre avons ont suis es fait faire peut peux puis pouvez veux voudrais
    je j me m mon ma mes moi nous notre nos il elle ils elles on y ne n pas plus leur leurs
    se s sa son ses t svp stp merci salut bonjour coucou allo mdr ptdr bah ben genre bon bonne
    estce alors donc aussi tres bien tout tous toute toutes
    """.split()
)

_EN_STEMMER = Stemmer.Stemmer("english")
_FR_STEMMER = Stemmer.Stemmer("french")


_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Cs", "Co"})


def strip_invisible(text: str) -> str:
    """Remove zero-width and other format or control characters (U+200B, U+202E...).

    They split words invisibly ("gr\u200bok") or reorder them; tabs and line
    breaks become spaces.
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        " " if ch in "\t\n\r" else ch
        for ch in text
        if ch in "\t\n\r" or unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
    )


def clean(text: str) -> str:
    """Lower-case, strip accents, links, mentions, emoji and control characters.

    Args:
        text: Raw message text, of any length.

    Returns:
        A space-separated ASCII-ish string; empty if nothing readable is left.
    """
    text = strip_invisible(text[:MAX_CHARS])
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _SPACES.sub(" ", text)
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    return " ".join(_TOKEN.findall(text))


def tokens(text: str) -> list[str]:
    """Split a message into cleaned word tokens (stop words kept)."""
    return clean(text).split()


@lru_cache(maxsize=65536)
def stems(token: str) -> tuple[str, ...]:
    """Return the English and French stems of one cleaned token (one if they agree)."""
    en = _EN_STEMMER.stemWord(token)
    fr = _FR_STEMMER.stemWord(token)
    return (en,) if en == fr else (en, fr)


def canonical(token: str) -> str:
    """Map a token to the word the knowledge base uses for it (``twitter`` -> ``x``)."""
    return SYNONYMS.get(token, token)


def phrases_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """A pattern matching any of the phrases as whole words of a cleaned text.

    Args:
        phrases: Words or phrases as a person would write them.

    Returns:
        The compiled pattern, or None when no phrase has any readable word.
    """
    cleaned = [c for c in (clean(p) for p in phrases) if c]
    if not cleaned:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(c) for c in cleaned) + r")\b")
