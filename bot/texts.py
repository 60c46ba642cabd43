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
        "tg.lang.usage": "Choose my language: /lang en, /lang fr, /lang es, /lang pt, /lang de,"
        " /lang it or /lang ja.",
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
        "tg.lang.usage": "Choisissez ma langue : /lang fr, /lang en, /lang es, /lang pt,"
        " /lang de, /lang it ou /lang ja.",
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


# Round 2 (issue 10): replies that are neither an answer nor "I don't know", and
# the five new languages. Kept in their own block so that merges stay easy.
TEXTS["en"].update(
    {
        "untranslated": "(This answer is not translated into your language yet.)",
        "smalltalk.hello": "Hello! Ask me how to stop a platform using your data.",
        "smalltalk.thanks": "You're welcome! Ask me again any time.",
        "not_covered.need": "I don't have steps for {need} on {platform} yet.",
        "not_covered.platform": "I don't cover {platform} yet.",
        "not_covered.offer": "For {platform} I can tell you about:",
        "not_covered.elsewhere": "I have it for other platforms:",
        "not_covered.none": "I can tell you how to stop X, Grok and other platforms using your"
        " data: ask me about those.",
        "need.ai_training": "stopping AI training on your data",
        "need.ai_chat_history": "deleting your AI chat history",
        "need.ai_features": "turning off its AI features",
        "need.activity_history": "stopping it keeping your activity",
        "need.location_history": "stopping it keeping your location history",
        "need.voice_recordings": "voice recordings",
        "need.third_party_sharing": "stopping sharing with third parties",
        "need.ad_personalization": "turning off personalized ads",
        "need.delete_account": "deleting an account",
        "need.download_data": "downloading your data",
        "need.private_account": "making an account private",
        "need.policy_changes": "changes to its privacy policy",
        "need.claims_check": "checking what an article claims",
        "need.bot_help": "what this bot can do",
        "need.bot_privacy": "what this bot stores",
    }
)
TEXTS["fr"].update(
    {
        "untranslated": "(Cette réponse n'est pas encore traduite dans votre langue.)",
        "smalltalk.hello": "Bonjour ! Demandez-moi comment empêcher une plateforme d'utiliser"
        " vos données.",
        "smalltalk.thanks": "Avec plaisir ! Revenez quand vous voulez.",
        "not_covered.need": "Je n'ai pas encore d'étapes pour {need} sur {platform}.",
        "not_covered.platform": "Je ne couvre pas encore {platform}.",
        "not_covered.offer": "Pour {platform}, je peux vous parler de :",
        "not_covered.elsewhere": "Je l'ai pour d'autres plateformes :",
        "not_covered.none": "Je peux vous expliquer comment empêcher X, Grok et d'autres"
        " plateformes d'utiliser vos données : demandez-moi.",
        "need.ai_training": "empêcher l'entraînement d'IA sur vos données",
        "need.ai_chat_history": "effacer l'historique de vos conversations avec l'IA",
        "need.ai_features": "désactiver ses fonctions d'IA",
        "need.activity_history": "l'empêcher de garder votre activité",
        "need.location_history": "l'empêcher de garder votre historique de localisation",
        "need.voice_recordings": "les enregistrements vocaux",
        "need.third_party_sharing": "empêcher le partage avec des tiers",
        "need.ad_personalization": "désactiver les publicités personnalisées",
        "need.delete_account": "supprimer un compte",
        "need.download_data": "télécharger vos données",
        "need.private_account": "passer un compte en privé",
        "need.policy_changes": "les changements de sa politique de confidentialité",
        "need.claims_check": "vérifier ce qu'affirme un article",
        "need.bot_help": "ce que ce bot sait faire",
        "need.bot_privacy": "ce que ce bot garde",
    }
)
TEXTS.update(
    {
        "es": {
            "steps": "Pasos",
            "facts": "Qué ocurre",
            "caveats": "Conviene saber",
            "sources": "Fuentes",
            "checked": "Comprobado el",
            "link": "Enlace directo",
            "surface.web": "Web",
            "surface.ios": "App de iPhone",
            "surface.android": "App de Android",
            "surface.on.web": "En la web",
            "surface.on.ios": "En la app de iPhone",
            "surface.on.android": "En la app de Android",
            "no_date": "s. f.",
            "fallback.title": "Lo siento, no sé responder a eso.",
            "fallback.summary": "Te explico cómo impedir que las plataformas usen tus datos."
            " Pregúntame, por ejemplo, por:",
            "fallback.empty": "No encontré ninguna pregunta en tu mensaje.",
            "clarify.title": "¿A cuál te refieres?",
            "clarify.summary": "Tu pregunta puede tratar de varias cosas:",
            "help.summary": "Pregúntame con tus palabras, por ejemplo «¿cómo impido que Grok"
            " se entrene con mis publicaciones?». Puedo ayudarte con:",
            "more": "Más",
            "related": "Relacionado",
            "tg.start": "¡Hola! Te explico paso a paso cómo impedir que las plataformas (X y"
            " Grok primero) usen tus datos. Pregúntame con tus palabras o toca un ejemplo."
            " Solo guardo tu idioma y tu último tema (para entender «¿y en Android?»), nunca"
            " tus mensajes; /forget lo borra.",
            "tg.lang.set": "Te responderé en español.",
            "tg.lang.usage": "Elige mi idioma: /lang es, /lang en, /lang fr, /lang pt, /lang de,"
            " /lang it o /lang ja.",
            "tg.forget.done": "Hecho: borré todo lo que guardaba sobre ti (idioma, último tema).",
            "tg.forget.none": "No tenía nada guardado sobre ti.",
            "tg.forget.failed": "No pude borrar ahora lo que guardo sobre ti (mi almacenamiento"
            " está fallando). No se borró nada: vuelve a enviar /forget en unos minutos.",
            "tg.privacy": "Solo guardo tu idioma, tu último tema y dispositivo, bajo una huella"
            " con sal de tu identificador de Telegram, nunca tus mensajes; caducan tras unos"
            " días sin contacto. /forget los borra al momento.",
            "tg.topics": "Con qué puedo ayudarte (toca uno):",
            "tg.unknown_topic": "Este tema ya no está disponible.",
            "tg.cmd.start": "Qué hace este bot",
            "tg.cmd.help": "Cómo preguntar y qué sé",
            "tg.cmd.topics": "Ver los temas",
            "tg.cmd.lang": "Elegir el idioma: /lang es",
            "tg.cmd.privacy": "Qué guardo sobre ti",
            "tg.cmd.forget": "Borrar todo lo que guardo sobre ti",
            "tg.description": "Te explico paso a paso cómo impedir que las plataformas (X y Grok"
            " primero) usen tus datos: entrenar IA con tus publicaciones, compartir con"
            " terceros, publicidad. No guardo ningún mensaje.",
            "tg.short_description": "Cómo impedir que X, Grok y otras plataformas usen tus datos.",
            "rate.slow_down": "Me escribes más rápido de lo que puedo responder. Espera un"
            " minuto y vuelve a preguntar.",
            "untranslated": "(Esta respuesta aún no está traducida al español.)",
            "smalltalk.hello": "¡Hola! Pregúntame cómo impedir que una plataforma use tus datos.",
            "smalltalk.thanks": "¡De nada! Pregúntame cuando quieras.",
            "not_covered.need": "Todavía no tengo pasos para {need} en {platform}.",
            "not_covered.platform": "Todavía no cubro {platform}.",
            "not_covered.offer": "Sobre {platform} puedo contarte:",
            "not_covered.elsewhere": "Lo tengo para otras plataformas:",
            "not_covered.none": "Puedo explicarte cómo impedir que X, Grok y otras plataformas"
            " usen tus datos: pregúntame por ellas.",
            "need.ai_training": "impedir que entrene IA con tus datos",
            "need.ai_chat_history": "borrar tu historial de chats con la IA",
            "need.ai_features": "desactivar sus funciones de IA",
            "need.activity_history": "impedir que guarde tu actividad",
            "need.location_history": "impedir que guarde tu historial de ubicaciones",
            "need.voice_recordings": "las grabaciones de voz",
            "need.third_party_sharing": "impedir que comparta datos con terceros",
            "need.ad_personalization": "desactivar los anuncios personalizados",
            "need.delete_account": "eliminar una cuenta",
            "need.download_data": "descargar tus datos",
            "need.private_account": "hacer privada una cuenta",
            "need.policy_changes": "los cambios de su política de privacidad",
            "need.claims_check": "comprobar lo que afirma un artículo",
            "need.bot_help": "lo que sabe hacer este bot",
            "need.bot_privacy": "lo que guarda este bot",
        },
        "pt": {
            "steps": "Passos",
            "facts": "O que acontece",
            "caveats": "Bom saber",
            "sources": "Fontes",
            "checked": "Verificado em",
            "link": "Link direto",
            "surface.web": "Web",
            "surface.ios": "App do iPhone",
            "surface.android": "App do Android",
            "surface.on.web": "Na web",
            "surface.on.ios": "No app do iPhone",
            "surface.on.android": "No app do Android",
            "no_date": "s.d.",
            "fallback.title": "Desculpe, não sei responder a isso.",
            "fallback.summary": "Eu explico como impedir que as plataformas usem seus dados."
            " Pergunte, por exemplo, sobre:",
            "fallback.empty": "Não encontrei nenhuma pergunta na sua mensagem.",
            "clarify.title": "Qual delas você quer dizer?",
            "clarify.summary": "Sua pergunta pode ser sobre várias coisas:",
            "help.summary": "Pergunte com suas palavras, por exemplo “como impeço o Grok de"
            " treinar com meus posts?”. Posso ajudar com:",
            "more": "Mais",
            "related": "Relacionado",
            "tg.start": "Olá! Eu explico passo a passo como impedir que as plataformas (X e"
            " Grok primeiro) usem seus dados. Pergunte com suas palavras ou toque num exemplo."
            " Só guardo seu idioma e seu último assunto (para entender “e no Android?”), nunca"
            " suas mensagens; /forget apaga tudo.",
            "tg.lang.set": "Vou responder em português.",
            "tg.lang.usage": "Escolha meu idioma: /lang pt, /lang en, /lang fr, /lang es,"
            " /lang de, /lang it ou /lang ja.",
            "tg.forget.done": "Pronto: apaguei tudo o que eu guardava sobre você (idioma, último"
            " assunto).",
            "tg.forget.none": "Eu não tinha nada guardado sobre você.",
            "tg.forget.failed": "Não consegui apagar agora o que guardo sobre você (meu"
            " armazenamento está com falha). Nada foi apagado: envie /forget de novo daqui a"
            " alguns minutos.",
            "tg.privacy": "Só guardo seu idioma, seu último assunto e aparelho, sob uma"
            " impressão com sal do seu identificador do Telegram, nunca suas mensagens; eles"
            " expiram depois de alguns dias sem contato. /forget apaga na hora.",
            "tg.topics": "Com o que posso ajudar (toque em um):",
            "tg.unknown_topic": "Este assunto não está mais disponível.",
            "tg.cmd.start": "O que este bot faz",
            "tg.cmd.help": "Como perguntar e o que eu sei",
            "tg.cmd.topics": "Ver os assuntos",
            "tg.cmd.lang": "Escolher o idioma: /lang pt",
            "tg.cmd.privacy": "O que eu guardo sobre você",
            "tg.cmd.forget": "Apagar tudo o que guardo sobre você",
            "tg.description": "Eu explico passo a passo como impedir que as plataformas (X e"
            " Grok primeiro) usem seus dados: treinar IA com seus posts, compartilhar com"
            " terceiros, anúncios. Não guardo nenhuma mensagem.",
            "tg.short_description": "Como impedir que X, Grok e outras plataformas usem seus"
            " dados.",
            "rate.slow_down": "Você está mandando mensagens mais rápido do que consigo"
            " responder. Espere um minuto e pergunte de novo.",
            "untranslated": "(Esta resposta ainda não foi traduzida para o português.)",
            "smalltalk.hello": "Olá! Pergunte como impedir que uma plataforma use seus dados.",
            "smalltalk.thanks": "De nada! Pode perguntar quando quiser.",
            "not_covered.need": "Ainda não tenho passos para {need} no {platform}.",
            "not_covered.platform": "Ainda não cubro {platform}.",
            "not_covered.offer": "Sobre {platform} posso falar de:",
            "not_covered.elsewhere": "Tenho isso para outras plataformas:",
            "not_covered.none": "Posso explicar como impedir que X, Grok e outras plataformas"
            " usem seus dados: pergunte sobre elas.",
            "need.ai_training": "impedir o treino de IA com seus dados",
            "need.ai_chat_history": "apagar seu histórico de conversas com a IA",
            "need.ai_features": "desativar os recursos de IA",
            "need.activity_history": "impedir que guarde sua atividade",
            "need.location_history": "impedir que guarde seu histórico de localização",
            "need.voice_recordings": "as gravações de voz",
            "need.third_party_sharing": "impedir o compartilhamento com terceiros",
            "need.ad_personalization": "desativar os anúncios personalizados",
            "need.delete_account": "excluir uma conta",
            "need.download_data": "baixar seus dados",
            "need.private_account": "deixar uma conta privada",
            "need.policy_changes": "as mudanças na política de privacidade",
            "need.claims_check": "verificar o que um artigo afirma",
            "need.bot_help": "o que este bot faz",
            "need.bot_privacy": "o que este bot guarda",
        },
        "de": {
            "steps": "Schritte",
            "facts": "Was passiert",
            "caveats": "Gut zu wissen",
            "sources": "Quellen",
            "checked": "Geprüft am",
            "link": "Direkter Link",
            "surface.web": "Web",
            "surface.ios": "iPhone-App",
            "surface.android": "Android-App",
            "surface.on.web": "Im Web",
            "surface.on.ios": "In der iPhone-App",
            "surface.on.android": "In der Android-App",
            "no_date": "o. D.",
            "fallback.title": "Entschuldigung, darauf weiß ich keine Antwort.",
            "fallback.summary": "Ich erkläre, wie du Plattformen die Nutzung deiner Daten"
            " verbietest. Frag mich zum Beispiel nach:",
            "fallback.empty": "Ich habe in deiner Nachricht keine Frage gefunden.",
            "clarify.title": "Welches meinst du?",
            "clarify.summary": "Deine Frage kann mehreres bedeuten:",
            "help.summary": "Frag mich in deinen eigenen Worten, zum Beispiel „Wie verbiete ich"
            " Grok das Training mit meinen Posts?“. Ich helfe bei:",
            "more": "Mehr",
            "related": "Siehe auch",
            "tg.start": "Hallo! Ich erkläre Schritt für Schritt, wie du Plattformen (zuerst X"
            " und Grok) die Nutzung deiner Daten verbietest. Frag in deinen Worten oder tippe"
            " auf ein Beispiel. Ich speichere nur deine Sprache und dein letztes Thema (für"
            " „und auf Android?“), nie deine Nachrichten; /forget löscht sie.",
            "tg.lang.set": "Ich antworte dir auf Deutsch.",
            "tg.lang.usage": "Wähle meine Sprache: /lang de, /lang en, /lang fr, /lang es,"
            " /lang pt, /lang it oder /lang ja.",
            "tg.forget.done": "Erledigt: Ich habe alles gelöscht, was ich über dich gespeichert"
            " hatte (Sprache, letztes Thema).",
            "tg.forget.none": "Ich hatte nichts über dich gespeichert.",
            "tg.forget.failed": "Ich konnte gerade nicht löschen, was ich über dich speichere (mein"
            " Speicher hat einen Fehler). Es wurde nichts gelöscht: Schick /forget in ein paar"
            " Minuten noch einmal.",
            "tg.privacy": "Ich speichere nur deine Sprache, dein letztes Thema und Gerät, unter"
            " einem gesalzenen Hash deiner Telegram-ID, nie deine Nachrichten; sie verfallen"
            " nach einigen Tagen ohne Kontakt. /forget löscht sie sofort.",
            "tg.topics": "Wobei ich helfen kann (tippe auf ein Thema):",
            "tg.unknown_topic": "Dieses Thema gibt es nicht mehr.",
            "tg.cmd.start": "Was dieser Bot macht",
            "tg.cmd.help": "Wie man fragt und was ich weiß",
            "tg.cmd.topics": "Themen anzeigen",
            "tg.cmd.lang": "Sprache wählen: /lang de",
            "tg.cmd.privacy": "Was ich über dich speichere",
            "tg.cmd.forget": "Alles löschen, was ich über dich speichere",
            "tg.description": "Ich erkläre Schritt für Schritt, wie du Plattformen (zuerst X und"
            " Grok) die Nutzung deiner Daten verbietest: KI-Training mit deinen Posts, Weitergabe"
            " an Dritte, Werbung. Ich speichere keine Nachrichten.",
            "tg.short_description": "X, Grok und anderen Plattformen die Nutzung deiner Daten"
            " verbieten.",
            "rate.slow_down": "Du schreibst schneller, als ich antworten kann. Warte bitte eine"
            " Minute und frag dann noch einmal.",
            "untranslated": "(Diese Antwort ist noch nicht ins Deutsche übersetzt.)",
            "smalltalk.hello": "Hallo! Frag mich, wie du einer Plattform die Nutzung deiner Daten"
            " verbietest.",
            "smalltalk.thanks": "Gern geschehen! Frag jederzeit wieder.",
            "not_covered.need": "Für {need} bei {platform} habe ich noch keine Schritte.",
            "not_covered.platform": "{platform} decke ich noch nicht ab.",
            "not_covered.offer": "Zu {platform} kann ich dir Folgendes sagen:",
            "not_covered.elsewhere": "Für andere Plattformen habe ich das:",
            "not_covered.none": "Ich erkläre, wie du X, Grok und anderen Plattformen die Nutzung"
            " deiner Daten verbietest: frag mich danach.",
            "need.ai_training": "das Verbieten von KI-Training mit deinen Daten",
            "need.ai_chat_history": "das Löschen deines KI-Chatverlaufs",
            "need.ai_features": "das Abschalten der KI-Funktionen",
            "need.activity_history": "das Abschalten des Aktivitätsverlaufs",
            "need.location_history": "das Abschalten des Standortverlaufs",
            "need.voice_recordings": "Sprachaufnahmen",
            "need.third_party_sharing": "das Verbieten der Weitergabe an Dritte",
            "need.ad_personalization": "das Abschalten personalisierter Werbung",
            "need.delete_account": "das Löschen eines Kontos",
            "need.download_data": "das Herunterladen deiner Daten",
            "need.private_account": "ein privates Konto",
            "need.policy_changes": "Änderungen der Datenschutzerklärung",
            "need.claims_check": "die Prüfung eines Artikels",
            "need.bot_help": "was dieser Bot kann",
            "need.bot_privacy": "was dieser Bot speichert",
        },
        "it": {
            "steps": "Passaggi",
            "facts": "Cosa succede",
            "caveats": "Da sapere",
            "sources": "Fonti",
            "checked": "Verificato il",
            "link": "Link diretto",
            "surface.web": "Web",
            "surface.ios": "App per iPhone",
            "surface.android": "App per Android",
            "surface.on.web": "Sul web",
            "surface.on.ios": "Nell'app per iPhone",
            "surface.on.android": "Nell'app per Android",
            "no_date": "s.d.",
            "fallback.title": "Mi dispiace, non so rispondere a questo.",
            "fallback.summary": "Ti spiego come impedire alle piattaforme di usare i tuoi dati."
            " Chiedimi per esempio di:",
            "fallback.empty": "Non ho trovato nessuna domanda nel tuo messaggio.",
            "clarify.title": "Quale intendi?",
            "clarify.summary": "La tua domanda può riguardare più cose:",
            "help.summary": "Chiedimi con parole tue, per esempio «come impedisco a Grok di"
            " addestrarsi sui miei post?». Posso aiutarti con:",
            "more": "Altro",
            "related": "Vedi anche",
            "tg.start": "Ciao! Ti spiego passo per passo come impedire alle piattaforme (prima"
            " X e Grok) di usare i tuoi dati. Chiedimi con parole tue o tocca un esempio."
            " Conservo solo la tua lingua e il tuo ultimo argomento (per capire «e su"
            " Android?»), mai i tuoi messaggi; /forget li cancella.",
            "tg.lang.set": "Ti risponderò in italiano.",
            "tg.lang.usage": "Scegli la mia lingua: /lang it, /lang en, /lang fr, /lang es,"
            " /lang pt, /lang de o /lang ja.",
            "tg.forget.done": "Fatto: ho cancellato tutto ciò che conservavo su di te (lingua,"
            " ultimo argomento).",
            "tg.forget.none": "Non conservavo niente su di te.",
            "tg.forget.failed": "Non sono riuscito a cancellare ora ciò che conservo su di te (la"
            " mia memoria ha un guasto). Non è stato cancellato niente: invia di nuovo /forget"
            " tra qualche minuto.",
            "tg.privacy": "Conservo solo la tua lingua, il tuo ultimo argomento e dispositivo,"
            " sotto un'impronta con sale del tuo identificativo Telegram, mai i tuoi messaggi;"
            " scadono dopo alcuni giorni senza contatto. /forget li cancella subito.",
            "tg.topics": "In cosa posso aiutarti (tocca un argomento):",
            "tg.unknown_topic": "Questo argomento non è più disponibile.",
            "tg.cmd.start": "Cosa fa questo bot",
            "tg.cmd.help": "Come chiedere e cosa so",
            "tg.cmd.topics": "Elenca gli argomenti",
            "tg.cmd.lang": "Scegli la lingua: /lang it",
            "tg.cmd.privacy": "Cosa conservo su di te",
            "tg.cmd.forget": "Cancella tutto ciò che conservo su di te",
            "tg.description": "Ti spiego passo per passo come impedire alle piattaforme (prima X"
            " e Grok) di usare i tuoi dati: addestrare l'IA sui tuoi post, condividerli con"
            " terzi, pubblicità. Non conservo nessun messaggio.",
            "tg.short_description": "Come impedire a X, Grok e altre piattaforme di usare i tuoi"
            " dati.",
            "rate.slow_down": "Mi scrivi più in fretta di quanto riesca a rispondere. Aspetta un"
            " minuto e poi richiedi.",
            "untranslated": "(Questa risposta non è ancora tradotta in italiano.)",
            "smalltalk.hello": "Ciao! Chiedimi come impedire a una piattaforma di usare i tuoi"
            " dati.",
            "smalltalk.thanks": "Prego! Chiedimi quando vuoi.",
            "not_covered.need": "Non ho ancora i passaggi per {need} su {platform}.",
            "not_covered.platform": "Non copro ancora {platform}.",
            "not_covered.offer": "Su {platform} posso dirti:",
            "not_covered.elsewhere": "Ce l'ho per altre piattaforme:",
            "not_covered.none": "Posso spiegarti come impedire a X, Grok e altre piattaforme di"
            " usare i tuoi dati: chiedimi di quelle.",
            "need.ai_training": "impedire l'addestramento dell'IA sui tuoi dati",
            "need.ai_chat_history": "cancellare la cronologia delle chat con l'IA",
            "need.ai_features": "disattivare le funzioni di IA",
            "need.activity_history": "impedire che conservi la tua attività",
            "need.location_history": "impedire che conservi la cronologia delle posizioni",
            "need.voice_recordings": "le registrazioni vocali",
            "need.third_party_sharing": "impedire la condivisione con terzi",
            "need.ad_personalization": "disattivare la pubblicità personalizzata",
            "need.delete_account": "eliminare un account",
            "need.download_data": "scaricare i tuoi dati",
            "need.private_account": "rendere privato un account",
            "need.policy_changes": "le modifiche all'informativa sulla privacy",
            "need.claims_check": "verificare cosa afferma un articolo",
            "need.bot_help": "cosa sa fare questo bot",
            "need.bot_privacy": "cosa conserva questo bot",
        },
        "ja": {
            "steps": "手順",
            "facts": "何が起きるか",
            "caveats": "知っておきたいこと",
            "sources": "出典",
            "checked": "確認日",
            "link": "直接リンク",
            "surface.web": "ウェブ",
            "surface.ios": "iPhoneアプリ",
            "surface.android": "Androidアプリ",
            "surface.on.web": "ウェブで",
            "surface.on.ios": "iPhoneアプリで",
            "surface.on.android": "Androidアプリで",
            "no_date": "日付なし",
            "fallback.title": "すみません、その質問にはお答えできません。",
            "fallback.summary": "プラットフォームにあなたのデータを使わせない方法をお伝えします。"
            "たとえば次のことを聞いてください：",
            "fallback.empty": "メッセージの中に質問が見つかりませんでした。",
            "clarify.title": "どれのことですか？",
            "clarify.summary": "ご質問はいくつかの意味にとれます：",
            "help.summary": "ご自分の言葉で聞いてください。たとえば「Grokに投稿を学習させない"
            "方法は？」。次のことをお手伝いできます：",
            "more": "もっと見る",
            "related": "関連",
            "tg.start": "こんにちは！プラットフォーム（まずXとGrok）にあなたのデータを使わせない"
            "方法を、手順ごとにお伝えします。ご自分の言葉で質問するか、下の例をタップしてください。"
            "保存するのは言語と最後の話題（「Androidでは？」を理解するため）だけで、"
            "メッセージは保存しません。/forget で消去できます。",
            "tg.lang.set": "日本語でお答えします。",
            "tg.lang.usage": "言語を選んでください：/lang ja、/lang en、/lang fr、/lang es、"
            "/lang pt、/lang de、/lang it",
            "tg.forget.done": "完了：あなたについて保存していたもの（言語、最後の話題）を"
            "すべて消去しました。",
            "tg.forget.none": "あなたについて保存しているものはありませんでした。",
            "tg.forget.failed": "いま保存データを消去できませんでした"
            "（ストレージに障害があります）。何も消去されていません。"
            "数分後にもう一度 /forget を送ってください。",
            "tg.privacy": "保存するのは言語、最後の話題と端末だけで、TelegramのIDはソルト付き"
            "ハッシュにして保存し、メッセージは保存しません。しばらく連絡がないと期限切れで"
            "消えます。/forget ですぐに消去できます。",
            "tg.topics": "お手伝いできること（タップしてください）：",
            "tg.unknown_topic": "この話題はもうありません。",
            "tg.cmd.start": "このボットについて",
            "tg.cmd.help": "質問のしかたと対応内容",
            "tg.cmd.topics": "話題の一覧",
            "tg.cmd.lang": "言語を選ぶ：/lang ja",
            "tg.cmd.privacy": "保存している情報",
            "tg.cmd.forget": "保存している情報をすべて消去",
            "tg.description": "プラットフォーム（まずXとGrok）にあなたのデータを使わせない方法を"
            "手順ごとにお伝えします：投稿のAI学習、第三者との共有、広告。メッセージは保存しません。",
            "tg.short_description": "X、Grokなどにデータを使わせない方法。",
            "rate.slow_down": "返信が追いつかない速さでメッセージが届いています。1分ほど待ってから"
            "もう一度聞いてください。",
            "untranslated": "（この回答はまだ日本語に翻訳されていません。）",
            "smalltalk.hello": "こんにちは！プラットフォームにデータを使わせない方法を"
            "聞いてください。",
            "smalltalk.thanks": "どういたしまして！いつでも聞いてください。",
            "not_covered.need": "{platform}の「{need}」の手順はまだありません。",
            "not_covered.platform": "{platform}にはまだ対応していません。",
            "not_covered.offer": "{platform}について答えられること：",
            "not_covered.elsewhere": "ほかのプラットフォームならあります：",
            "not_covered.none": "X、Grokなどにデータを使わせない方法ならお伝えできます。"
            "聞いてみてください。",
            "need.ai_training": "データのAI学習を止める",
            "need.ai_chat_history": "AIとの会話履歴を消す",
            "need.ai_features": "AI機能をオフにする",
            "need.activity_history": "アクティビティの保存を止める",
            "need.location_history": "位置情報の履歴の保存を止める",
            "need.voice_recordings": "音声録音",
            "need.third_party_sharing": "第三者との共有を止める",
            "need.ad_personalization": "パーソナライズ広告をオフにする",
            "need.delete_account": "アカウントを削除する",
            "need.download_data": "データをダウンロードする",
            "need.private_account": "アカウントを非公開にする",
            "need.policy_changes": "プライバシーポリシーの変更",
            "need.claims_check": "記事の主張の確認",
            "need.bot_help": "このボットにできること",
            "need.bot_privacy": "このボットが保存するもの",
        },
    }
)


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
