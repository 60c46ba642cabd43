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
        # Parts of an answer (buttons, headings)
        "help.also": "Also:",
        "part.short": "↩ Short answer",
        "part.surfaces": "Other devices",
        "part.why": "Why / what happens",
        "part.sources": "Sources",
        "part.related": "Related",
        "part.site": "🌐 Full answer on the web",
        "open": "Open the setting",
        "tg.not_text": "I only read text. Ask me in words, for example “how do I stop Grok"
        " training?”, or send /topics to see what I know.",
        "tg.unknown_command": "I don't know that command. I understand /start, /help, /topics,"
        " /lang, /privacy and /forget, or a question in your own words.",
        "tg.inline.hint": "Type a question, e.g. grok training",
        "bsky.fallback": "I answer questions on stopping platforms using your data, e.g. “how"
        " do I stop Grok training?”.",
        "bsky.pick": "Reply with a number.",
        "bsky.cap.thread": "That's all I can post in this thread. The rest is at the link above,"
        " or tag me in a new post.",
        "bsky.cap.hour": "I've posted a lot for you this hour: I'll pause here. Tag me again"
        " later for more.",
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
        "help.also": "Et aussi :",
        "part.short": "↩ Réponse courte",
        "part.surfaces": "Autres appareils",
        "part.why": "Pourquoi, ce qui se passe",
        "part.sources": "Sources",
        "part.related": "Voir aussi",
        "part.site": "🌐 Réponse complète sur le web",
        "open": "Ouvrir le réglage",
        "tg.not_text": "Je ne lis que du texte. Posez votre question avec des mots, par exemple"
        " « comment empêcher Grok de s'entraîner sur mes posts ? », ou envoyez /topics pour"
        " voir ce que je sais.",
        "tg.unknown_command": "Je ne connais pas cette commande. Je comprends /start, /help,"
        " /topics, /lang, /privacy et /forget, ou une question avec vos mots.",
        "tg.inline.hint": "Tapez une question, ex. entraînement Grok",
        "bsky.fallback": "Je réponds aux questions pour empêcher les plateformes d'utiliser vos"
        " données, par ex. « comment empêcher Grok de s'entraîner ? ».",
        "bsky.pick": "Répondez par un numéro.",
        "bsky.cap.thread": "Je ne posterai plus dans ce fil. La suite est au lien ci-dessus, ou"
        " mentionnez-moi dans un nouveau post.",
        "bsky.cap.hour": "J'ai beaucoup posté pour vous cette heure-ci : je m'arrête là."
        " Mentionnez-moi plus tard pour la suite.",
    },
}


def text(language: str, key: str) -> str:
    """Return a fixed phrase in ``language`` (English if the language is unknown)."""
    return TEXTS.get(language, TEXTS["en"]).get(key) or TEXTS["en"][key]


def labels(language: str) -> dict[str, str]:
    """All fixed phrases of a language, for renderers."""
    return dict(TEXTS.get(language, TEXTS["en"]))


# The chat phrases of the other languages (answer parts, Telegram notices, Bluesky
# posts), added to whatever each language already has; keep this block last.
_CHAT_PHRASES: dict[str, dict[str, str]] = {
    "es": {
        "help.also": "Y también:",
        "part.short": "↩ Respuesta corta",
        "part.surfaces": "Otros dispositivos",
        "part.why": "Por qué, qué ocurre",
        "part.sources": "Fuentes",
        "part.related": "Relacionado",
        "part.site": "🌐 Respuesta completa en la web",
        "open": "Abrir el ajuste",
        "tg.not_text": "Solo leo texto. Pregúntame con palabras, por ejemplo «¿cómo impido que"
        " Grok se entrene con mis posts?», o envía /topics para ver lo que sé.",
        "tg.unknown_command": "No conozco ese comando. Entiendo /start, /help, /topics, /lang,"
        " /privacy y /forget, o una pregunta con tus palabras.",
        "tg.inline.hint": "Escribe una pregunta, p. ej. entrenamiento Grok",
        "bsky.fallback": "Respondo preguntas sobre cómo impedir que las plataformas usen tus"
        " datos, p. ej. «¿cómo impido que Grok se entrene?».",
        "bsky.pick": "Responde con un número.",
        "bsky.cap.thread": "No publicaré más en este hilo. El resto está en el enlace de"
        " arriba, o mencióname en un post nuevo.",
        "bsky.cap.hour": "He publicado mucho para ti esta hora: paro aquí. Mencióname más"
        " tarde para seguir.",
    },
    "pt": {
        "help.also": "E também:",
        "part.short": "↩ Resposta curta",
        "part.surfaces": "Outros dispositivos",
        "part.why": "Porquê, o que acontece",
        "part.sources": "Fontes",
        "part.related": "Relacionado",
        "part.site": "🌐 Resposta completa na web",
        "open": "Abrir a configuração",
        "tg.not_text": "Só leio texto. Pergunte com palavras, por exemplo «como impeço o Grok"
        " de treinar com os meus posts?», ou envie /topics para ver o que sei.",
        "tg.unknown_command": "Não conheço esse comando. Entendo /start, /help, /topics,"
        " /lang, /privacy e /forget, ou uma pergunta com as suas palavras.",
        "tg.inline.hint": "Escreva uma pergunta, ex. treino do Grok",
        "bsky.fallback": "Respondo a perguntas sobre como impedir as plataformas de usar os"
        " seus dados, ex. «como impeço o Grok de treinar?».",
        "bsky.pick": "Responda com um número.",
        "bsky.cap.thread": "Não vou publicar mais neste fio. O resto está no link acima, ou"
        " mencione-me num novo post.",
        "bsky.cap.hour": "Publiquei muito para si nesta hora: fico por aqui. Mencione-me mais"
        " tarde para continuar.",
    },
    "de": {
        "help.also": "Außerdem:",
        "part.short": "↩ Kurze Antwort",
        "part.surfaces": "Andere Geräte",
        "part.why": "Warum, was passiert",
        "part.sources": "Quellen",
        "part.related": "Verwandte Themen",
        "part.site": "🌐 Ganze Antwort im Web",
        "open": "Einstellung öffnen",
        "tg.not_text": "Ich lese nur Text. Frag mich in Worten, zum Beispiel „Wie verhindere"
        " ich, dass Grok mit meinen Beiträgen trainiert?“, oder sende /topics, um zu sehen,"
        " was ich weiß.",
        "tg.unknown_command": "Diesen Befehl kenne ich nicht. Ich verstehe /start, /help,"
        " /topics, /lang, /privacy und /forget oder eine Frage in deinen Worten.",
        "tg.inline.hint": "Frage eingeben, z. B. Grok Training",
        "bsky.fallback": "Ich beantworte Fragen dazu, wie du Plattformen die Nutzung deiner"
        " Daten verbietest, z. B. „Wie stoppe ich das Grok-Training?“.",
        "bsky.pick": "Antworte mit einer Zahl.",
        "bsky.cap.thread": "In diesem Thread poste ich nichts mehr. Der Rest steht unter dem"
        " Link oben, oder erwähne mich in einem neuen Beitrag.",
        "bsky.cap.hour": "Ich habe in dieser Stunde viel für dich gepostet und pausiere hier."
        " Erwähne mich später wieder.",
    },
    "it": {
        "help.also": "E inoltre:",
        "part.short": "↩ Risposta breve",
        "part.surfaces": "Altri dispositivi",
        "part.why": "Perché, cosa succede",
        "part.sources": "Fonti",
        "part.related": "Correlati",
        "part.site": "🌐 Risposta completa sul web",
        "open": "Apri l'impostazione",
        "tg.not_text": "Leggo solo testo. Chiedimelo a parole, per esempio «come impedisco a"
        " Grok di addestrarsi sui miei post?», oppure invia /topics per vedere cosa so.",
        "tg.unknown_command": "Non conosco questo comando. Capisco /start, /help, /topics,"
        " /lang, /privacy e /forget, oppure una domanda con parole tue.",
        "tg.inline.hint": "Scrivi una domanda, es. addestramento Grok",
        "bsky.fallback": "Rispondo a domande su come impedire alle piattaforme di usare i tuoi"
        " dati, es. «come fermo l'addestramento di Grok?».",
        "bsky.pick": "Rispondi con un numero.",
        "bsky.cap.thread": "Non pubblicherò altro in questo thread. Il resto è al link sopra,"
        " oppure menzionami in un nuovo post.",
        "bsky.cap.hour": "Ho pubblicato molto per te in quest'ora: mi fermo qui. Menzionami"
        " più tardi per continuare.",
    },
    "ja": {
        "help.also": "ほかに:",
        "part.short": "↩ 短い回答",
        "part.surfaces": "ほかの端末",
        "part.why": "理由と仕組み",
        "part.sources": "出典",
        "part.related": "関連",
        "part.site": "🌐 ウェブで全文を見る",
        "open": "設定を開く",
        "tg.not_text": "テキストしか読めません。「Grokに投稿で学習させないには?」のように"
        "言葉で質問するか、/topics で扱える話題を確認してください。",
        "tg.unknown_command": "そのコマンドは知りません。/start、/help、/topics、/lang、"
        "/privacy、/forget か、ふつうの言葉での質問がわかります。",
        "tg.inline.hint": "質問を入力(例: Grok 学習)",
        "bsky.fallback": "プラットフォームにデータを使わせない方法の質問に答えます。"
        "例:「Grokの学習を止めるには?」",
        "bsky.pick": "番号で返信してください。",
        "bsky.cap.thread": "このスレッドへの投稿はここまでです。続きは上のリンクか、"
        "新しい投稿でメンションしてください。",
        "bsky.cap.hour": "この1時間にたくさん投稿したので、ここで止めます。"
        "あとでまたメンションしてください。",
    },
}
for _language, _phrases in _CHAT_PHRASES.items():
    TEXTS.setdefault(_language, {}).update(_phrases)
