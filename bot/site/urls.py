"""Stable, readable addresses of the site's pages, shared by the site and the bots.

A topic id ``x.grok_training`` becomes ``/en/x/grok-training/``: the platform
first (what people look for), then the topic with hyphens (what URLs use).
These paths are a public promise (people share them, search engines keep
them), so they depend only on the topic id and the language, never on titles.
The functions are pure so the renderers can call them per reply at no cost.
"""

from __future__ import annotations

# The only place that says what the operator's variable is called.
SITE_URL_VARIABLE = "PRIVACYBOT_SITE_URL"


def topic_slug(topic_id: str) -> str:
    """The last part of a topic's address (``grok-training`` for ``x.grok_training``).

    Args:
        topic_id: A knowledge-base topic id, ``platform.snake_name``.

    Returns:
        The snake name with hyphens.
    """
    return topic_id.split(".", 1)[-1].replace("_", "-")


def topic_path(language: str, topic_id: str) -> str:
    """A topic page's path below the site root, with a trailing slash.

    Args:
        language: The page's language code (``en``, ``fr``...).
        topic_id: The topic id.

    Returns:
        ``"<language>/<platform>/<slug>/"``, e.g. ``"en/x/grok-training/"``.
    """
    platform = topic_id.split(".", 1)[0]
    return f"{language}/{platform}/{topic_slug(topic_id)}/"


def topic_page_url(base: str | None, language: str, topic_id: str) -> str | None:
    """The public address of a topic's page, for a bot's link card or button.

    Args:
        base: The site's root URL (``PRIVACYBOT_SITE_URL``), with or without
            a trailing slash; None or empty when the operator publishes no site.
        language: The reply's language.
        topic_id: The topic answered.

    Returns:
        ``https://example.org/en/x/grok-training/``, or None without a base
        (then the bots link nowhere new).
    """
    if not base or not base.strip():
        return None
    return f"{base.strip().rstrip('/')}/{topic_path(language, topic_id)}"
