"""The bot's own words, in every supported language.

Topic content lives in ``knowledge/``; this module holds only the fixed phrases
around it (headings, the "I don't know" answer, surface names) so that every
channel says the same thing.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "steps": "Steps",
        "facts": "What happens",
        "caveats": "Good to know",
        "sources": "Sources",
        "checked": "Checked on",
        "link": "Direct link",
        "surface.web": "Web",
        "surface.ios": "iPhone app",
        "surface.android": "Android app",
        "surface.on.web": "On the web",
        "surface.on.ios": "In the iPhone app",
        "surface.on.android": "In the Android app",
        "no_date": "n.d.",
        "fallback.title": "Sorry, I don't know how to answer that.",
        "fallback.summary": "I can tell you how to stop platforms using your data. Ask me about:",
        "fallback.empty": "I didn't find a question in your message.",
        "clarify.title": "Which one do you mean?",
        "clarify.summary": "Your question could be about several things:",
        "help.summary": "Ask me in your own words, for example \"how do I stop Grok training?\"."
        " I can help with:",
        "more": "More",
        "related": "Related",
    },
    "fr": {
        "steps": "Étapes",
        "facts": "Ce qui se passe",
        "caveats": "À savoir",
        "sources": "Sources",
        "checked": "Vérifié le",
        "link": "Lien direct",
        "surface.web": "Web",
        "surface.ios": "App iPhone",
        "surface.android": "App Android",
        "surface.on.web": "Sur le web",
        "surface.on.ios": "Dans l'app iPhone",
        "surface.on.android": "Dans l'app Android",
        "no_date": "s.d.",
        "fallback.title": "Désolé, je ne sais pas répondre à cela.",
        "fallback.summary": "Je vous explique comment empêcher les plateformes d'utiliser vos"
        " données. Demandez-moi par exemple :",
        "fallback.empty": "Je n'ai pas trouvé de question dans votre message.",
        "clarify.title": "Vous voulez dire lequel ?",
        "clarify.summary": "Votre question peut porter sur plusieurs sujets :",
        "help.summary": "Posez votre question avec vos mots, par exemple « comment empêcher"
        " Grok de s'entraîner sur mes posts ? ». Je peux vous aider pour :",
        "more": "Plus",
        "related": "Voir aussi",
    },
}


def text(language: str, key: str) -> str:
    """Return a fixed phrase in ``language`` (English if the language is unknown)."""
    return TEXTS.get(language, TEXTS["en"]).get(key) or TEXTS["en"][key]


def labels(language: str) -> dict[str, str]:
    """All fixed phrases of a language, for renderers."""
    return dict(TEXTS.get(language, TEXTS["en"]))
