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
        "help.summary": 'Ask me in your own words, for example "how do I stop Grok training?".'
        " I can help with:",
        "more": "More",
        "related": "Related",
        # Telegram
        "tg.start": "Hello! I tell you how to stop platforms (X and Grok first) from using your"
        " data, step by step. Ask me in your own words, or tap an example below."
        " I keep only your language and your last topic (for follow-ups such as “and on"
        " Android?”), never your messages; /forget erases it.",
        "tg.lang.set": "I will answer in English.",
        "tg.lang.usage": "Choose my language: /lang en or /lang fr.",
        "tg.forget.done": "Done: I erased everything I stored about you (language, last topic).",
        "tg.forget.none": "I had nothing stored about you.",
        "tg.forget.failed": "I could not erase what I store about you just now (my storage is"
        " failing). Nothing was erased: please send /forget again in a few minutes.",
        "tg.privacy": "I store only your language, your last topic and surface, under a salted"
        " hash of your Telegram id, never your messages; they expire after some days of"
        " silence. /forget erases them at once.",
        "tg.topics": "What I can help with (tap one):",
        "tg.unknown_topic": "This topic is no longer available.",
        "tg.cmd.start": "What this bot does",
        "tg.cmd.help": "How to ask, and what I know",
        "tg.cmd.topics": "List the topics",
        "tg.cmd.lang": "Choose the language: /lang en or /lang fr",
        "tg.cmd.privacy": "What I store about you",
        "tg.cmd.forget": "Erase everything I store about you",
        "tg.description": "I tell you, step by step, how to stop platforms (X and Grok first)"
        " from using your data: training AI on your posts, sharing with third parties, ads."
        " Ask in English or French. I keep no messages.",
        "tg.short_description": "How to stop X, Grok and other platforms using your data.",
        "rate.slow_down": "You are sending messages faster than I can answer. Please wait a"
        " minute, then ask again.",
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
        # Telegram
        "tg.start": "Bonjour ! Je vous explique, étape par étape, comment empêcher les"
        " plateformes (X et Grok d'abord) d'utiliser vos données. Posez votre question avec"
        " vos mots, ou touchez un exemple ci-dessous. Je ne garde que votre langue et votre"
        " dernier sujet (pour comprendre « et sur Android ? »), jamais vos messages ;"
        " /forget les efface.",
        "tg.lang.set": "Je vous répondrai en français.",
        "tg.lang.usage": "Choisissez ma langue : /lang fr ou /lang en.",
        "tg.forget.done": "C'est fait : j'ai effacé tout ce que je gardais sur vous (langue,"
        " dernier sujet).",
        "tg.forget.none": "Je n'avais rien gardé sur vous.",
        "tg.forget.failed": "Je n'ai pas pu effacer ce que je garde sur vous pour l'instant (mon"
        " stockage a un problème). Rien n'a été effacé : renvoyez /forget dans quelques minutes.",
        "tg.privacy": "Je ne garde que votre langue, votre dernier sujet et votre support,"
        " sous une empreinte salée de votre identifiant Telegram, jamais vos messages ; ils"
        " expirent après quelques jours sans contact. /forget les efface tout de suite.",
        "tg.topics": "Ce sur quoi je peux vous aider (touchez un sujet) :",
        "tg.unknown_topic": "Ce sujet n'existe plus.",
        "tg.cmd.start": "Ce que fait ce bot",
        "tg.cmd.help": "Comment poser une question, ce que je sais",
        "tg.cmd.topics": "Lister les sujets",
        "tg.cmd.lang": "Choisir la langue : /lang fr ou /lang en",
        "tg.cmd.privacy": "Ce que je garde sur vous",
        "tg.cmd.forget": "Effacer tout ce que je garde sur vous",
        "tg.description": "Je vous explique, étape par étape, comment empêcher les plateformes"
        " (X et Grok d'abord) d'utiliser vos données : entraînement d'IA sur vos posts, partage"
        " avec des tiers, publicité. En français ou en anglais. Je ne garde aucun message.",
        "tg.short_description": "Empêcher X, Grok et d'autres plateformes d'utiliser vos données.",
        "rate.slow_down": "Vous m'écrivez plus vite que je ne peux répondre. Attendez une"
        " minute, puis reposez votre question.",
    },
}


def text(language: str, key: str) -> str:
    """Return a fixed phrase in ``language`` (English if the language is unknown)."""
    return TEXTS.get(language, TEXTS["en"]).get(key) or TEXTS["en"][key]


def labels(language: str) -> dict[str, str]:
    """All fixed phrases of a language, for renderers."""
    return dict(TEXTS.get(language, TEXTS["en"]))
