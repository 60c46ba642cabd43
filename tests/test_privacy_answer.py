"""``bot.privacy`` tells the truth: what it says the bot keeps is what the store holds.

Every column of :data:`bot.store.TABLES` (checked against the real databases in
``test_store.py``) must be covered here by phrases the answer has to contain in
both languages. A new column therefore fails this test until someone says, both
here and in ``knowledge/bot.yaml``, what it holds and why.
"""

from __future__ import annotations

import pytest

from bot.core import Core
from bot.kb.loader import default_dir, load_knowledge
from bot.settings import DEFAULT_USER_RETENTION_DAYS, UNANSWERED_RETENTION_DAYS
from bot.store import TABLES

pytestmark = pytest.mark.timeout(30)

USERS_DAYS = {
    "en": f"{DEFAULT_USER_RETENTION_DAYS} days",
    "fr": f"{DEFAULT_USER_RETENTION_DAYS} jours",
}
QUESTION_DAYS = {
    "en": f"{UNANSWERED_RETENTION_DAYS} days",
    "fr": f"{UNANSWERED_RETENTION_DAYS} jours",
}

# What the answer must say for each stored column: every group must match, and
# a group matches when any of its phrases is in the answer's text (lower case).
DISCLOSED: dict[tuple[str, str], dict[str, list[tuple[str, ...]]]] = {
    ("users", "key"): {"en": [("salted hash",)], "fr": [("empreinte salée",)]},
    ("users", "language"): {"en": [("language",)], "fr": [("langue",)]},
    ("users", "last_topic"): {"en": [("last topic",)], "fr": [("dernier sujet",)]},
    ("users", "surface"): {"en": [("surface", "device")], "fr": [("surface", "appareil")]},
    ("users", "platform"): {"en": [("platform",)], "fr": [("plateforme",)]},
    ("users", "need"): {"en": [("need",)], "fr": [("besoin",)]},
    ("users", "choices"): {"en": [("choices last offered",)], "fr": [("choix proposés",)]},
    ("users", "language_chosen"): {"en": [("/lang",)], "fr": [("/lang",)]},
    ("users", "updated_at"): {
        "en": [(USERS_DAYS["en"],), ("without contact", "idle")],
        "fr": [(USERS_DAYS["fr"],), ("sans contact",)],
    },
    ("answered_posts", "post_uri"): {
        "en": [("bluesky",), ("post addresses", "already answered")],
        "fr": [("bluesky",), ("adresses", "déjà répondu")],
    },
    ("answered_posts", "reply_uri"): {
        "en": [("already answered",)],
        "fr": [("déjà répondu",)],
    },
    # answered_at only serves expiry (stricter than the answer promises).
    ("answered_posts", "answered_at"): {"en": [], "fr": []},
    ("counters", "name"): {"en": [("aggregate counters",)], "fr": [("compteurs",)]},
    ("counters", "value"): {"en": [("no user information",)], "fr": [("sans aucune information",)]},
    ("unanswered", "id"): {"en": [], "fr": []},
    ("unanswered", "text"): {
        "en": [("unanswered",), ("text and language only",), ("operator turns that on",)],
        "fr": [("sans réponse",), ("le texte et la langue",), ("l'opérateur active",)],
    },
    ("unanswered", "language"): {"en": [("language",)], "fr": [("langue",)]},
    ("unanswered", "created_at"): {"en": [(QUESTION_DAYS["en"],)], "fr": [(QUESTION_DAYS["fr"],)]},
}

# Not about people: the bot's own Bluesky session, notification watermark and
# write budget. Nothing a person sent is put there.
NOT_PERSONAL = {("channel_state", "key"), ("channel_state", "value")}

ALWAYS = {
    "en": [("/forget",), ("does not store or log the text of your messages", "never store")],
    "fr": [("/forget",), ("ne stocke pas", "ne stocke jamais")],
}


@pytest.fixture(scope="module")
def answer_text() -> dict[str, str]:
    kb = load_knowledge(default_dir())
    if kb.get("bot.privacy") is None:
        pytest.fail("knowledge/ has no bot.privacy topic: the bot must say what it stores")
    core = Core(kb)
    texts = {}
    for language in ("en", "fr"):
        reply = core.topic_reply("bot.privacy", language)
        parts = [reply.title, reply.summary, reply.short, *reply.facts, *reply.caveats]
        parts += list(reply.steps)
        texts[language] = " ".join(parts).lower()
    return texts


def test_every_stored_column_is_accounted_for() -> None:
    stored = {(table, column) for table, columns in TABLES.items() for column in columns}
    assert stored == set(DISCLOSED) | NOT_PERSONAL


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("column", sorted(DISCLOSED), ids=lambda c: ".".join(c))
def test_answer_discloses_each_column(
    answer_text: dict[str, str], language: str, column: tuple[str, str]
) -> None:
    text = answer_text[language]
    for group in DISCLOSED[column][language]:
        assert any(p.lower() in text for p in group), (
            f"bot.privacy ({language}) does not say {group} for {'.'.join(column)}"
        )


@pytest.mark.parametrize("language", ["en", "fr"])
def test_answer_says_messages_are_not_kept_and_how_to_erase(
    answer_text: dict[str, str], language: str
) -> None:
    for group in ALWAYS[language]:
        assert any(p in answer_text[language] for p in group), group


def test_the_store_keeps_no_message_text_outside_the_opt_in_table() -> None:
    text_like = {"text", "message", "body", "question", "content", "user_id", "username"}
    for table, columns in TABLES.items():
        if table == "unanswered":
            assert "user" not in " ".join(columns)
            continue
        assert not text_like & set(columns), table
