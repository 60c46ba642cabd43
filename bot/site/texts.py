"""The site's own words (navigation, headings, the privacy page) in every language.

Topic content comes from the core's replies; this module only holds what is
around it. A language without a phrase falls back to English, so a topic
translated before the site's words still gets a page.
"""

from __future__ import annotations

# Languages in the order the language switcher lists them.
SITE_LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "pt", "de", "it", "ja")

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "de": "Deutsch",
    "it": "Italiano",
    "ja": "日本語",
}

_EN: dict[str, str] = {
    "skip": "Skip to content",
    "home": "All topics",
    "home.title": "Stop platforms using your data",
    "home.intro": "Step-by-step answers, with the direct link to each setting and the sources"
    " behind every fact. Pick a platform or what you want to do.",
    "platforms": "By platform",
    "needs": "By what you want to do",
    "summary": "In short",
    "steps": "Steps",
    "surface.web": "On the web",
    "surface.ios": "In the iPhone app",
    "surface.android": "In the Android app",
    "link": "Open the setting directly",
    "facts": "What happens",
    "caveats": "Good to know",
    "sources": "Sources",
    "checked": "Last checked on",
    "no_date": "no date shown",
    "kind.official": "official",
    "kind.regulator": "regulator",
    "kind.press": "press",
    "kind.guide": "guide",
    "related": "Related",
    "languages": "This page in other languages",
    "privacy": "Privacy",
    "privacy.title": "What this site and the bot store",
    "privacy.site": "This site",
    "privacy.site.1": "This site sets no cookies, runs no scripts and loads nothing from other"
    " sites: no fonts, images, statistics or trackers. Every page is plain HTML and one"
    " style sheet, served from the same place.",
    "privacy.site.2": "The links to platforms and sources take you to those sites, whose own"
    " rules then apply.",
    "privacy.site.3": "The web server that hosts these pages may keep the technical access"
    " log every server keeps; the example server setup shipped with privacybot keeps none.",
    "privacy.bot": "The bot",
    "footer": "Answers from privacybot's knowledge base. Every fact has a source and a date:"
    " platforms change their settings, so check the date.",
    "topics.json": "All topics as data (JSON)",
    "choose_language": "Choose your language",
}

TEXTS: dict[str, dict[str, str]] = {
    "en": _EN,
    "fr": {
        "skip": "Aller au contenu",
        "home": "Tous les sujets",
        "home.title": "Empêcher les plateformes d'utiliser vos données",
        "home.intro": "Des réponses pas à pas, avec le lien direct vers chaque réglage et les"
        " sources de chaque fait. Choisissez une plateforme ou ce que vous voulez faire.",
        "platforms": "Par plateforme",
        "needs": "Par ce que vous voulez faire",
        "summary": "En bref",
        "steps": "Étapes",
        "surface.web": "Sur le web",
        "surface.ios": "Dans l'app iPhone",
        "surface.android": "Dans l'app Android",
        "link": "Ouvrir directement le réglage",
        "facts": "Ce qui se passe",
        "caveats": "À savoir",
        "sources": "Sources",
        "checked": "Vérifié le",
        "no_date": "sans date",
        "kind.official": "officielle",
        "kind.regulator": "autorité",
        "kind.press": "presse",
        "kind.guide": "guide",
        "related": "Voir aussi",
        "languages": "Cette page dans d'autres langues",
        "privacy": "Vie privée",
        "privacy.title": "Ce que ce site et le bot conservent",
        "privacy.site": "Ce site",
        "privacy.site.1": "Ce site ne dépose aucun cookie, n'exécute aucun script et ne charge"
        " rien depuis d'autres sites : ni polices, ni images, ni statistiques, ni traceurs."
        " Chaque page est du HTML simple et une feuille de style, servis au même endroit.",
        "privacy.site.2": "Les liens vers les plateformes et les sources vous emmènent sur ces"
        " sites, dont les règles s'appliquent alors.",
        "privacy.site.3": "Le serveur web qui héberge ces pages peut tenir le journal d'accès"
        " technique de tout serveur ; la configuration d'exemple fournie avec privacybot n'en"
        " tient aucun.",
        "privacy.bot": "Le bot",
        "footer": "Réponses tirées de la base de connaissances de privacybot. Chaque fait a"
        " une source et une date : les plateformes changent leurs réglages, vérifiez la date.",
        "topics.json": "Tous les sujets en données (JSON)",
        "choose_language": "Choisissez votre langue",
    },
    "es": {
        "skip": "Ir al contenido",
        "home": "Todos los temas",
        "home.title": "Impide que las plataformas usen tus datos",
        "home.intro": "Respuestas paso a paso, con el enlace directo a cada ajuste y las"
        " fuentes de cada dato. Elige una plataforma o lo que quieres hacer.",
        "platforms": "Por plataforma",
        "needs": "Por lo que quieres hacer",
        "summary": "En resumen",
        "steps": "Pasos",
        "surface.web": "En la web",
        "surface.ios": "En la app de iPhone",
        "surface.android": "En la app de Android",
        "link": "Abrir el ajuste directamente",
        "facts": "Qué pasa",
        "caveats": "Conviene saber",
        "sources": "Fuentes",
        "checked": "Comprobado el",
        "no_date": "sin fecha",
        "kind.official": "oficial",
        "kind.regulator": "autoridad",
        "kind.press": "prensa",
        "kind.guide": "guía",
        "related": "Relacionado",
        "languages": "Esta página en otros idiomas",
        "privacy": "Privacidad",
        "privacy.title": "Qué guardan este sitio y el bot",
        "privacy.site": "Este sitio",
        "privacy.bot": "El bot",
        "privacy.site.1": "Este sitio no usa cookies, no ejecuta scripts y no carga nada de"
        " otros sitios: ni fuentes, ni imágenes, ni estadísticas, ni rastreadores. Cada página"
        " es HTML simple y una hoja de estilo, servidas desde el mismo lugar.",
        "privacy.site.2": "Los enlaces a plataformas y fuentes te llevan a esos sitios, donde"
        " se aplican sus propias reglas.",
        "privacy.site.3": "El servidor web que aloja estas páginas puede guardar el registro"
        " técnico de accesos que guarda todo servidor; la configuración de ejemplo que trae"
        " privacybot no guarda ninguno.",
        "footer": "Respuestas de la base de conocimiento de privacybot. Cada dato tiene fuente"
        " y fecha: las plataformas cambian sus ajustes, así que mira la fecha.",
        "topics.json": "Todos los temas como datos (JSON)",
        "choose_language": "Elige tu idioma",
    },
    "pt": {
        "skip": "Ir para o conteúdo",
        "home": "Todos os temas",
        "home.title": "Impeça as plataformas de usar seus dados",
        "home.intro": "Respostas passo a passo, com o link direto para cada configuração e as"
        " fontes de cada fato. Escolha uma plataforma ou o que você quer fazer.",
        "platforms": "Por plataforma",
        "needs": "Pelo que você quer fazer",
        "summary": "Em resumo",
        "steps": "Passos",
        "surface.web": "Na web",
        "surface.ios": "No app para iPhone",
        "surface.android": "No app para Android",
        "link": "Abrir a configuração diretamente",
        "facts": "O que acontece",
        "caveats": "Bom saber",
        "sources": "Fontes",
        "checked": "Verificado em",
        "no_date": "sem data",
        "kind.official": "oficial",
        "kind.regulator": "autoridade",
        "kind.press": "imprensa",
        "kind.guide": "guia",
        "related": "Relacionados",
        "languages": "Esta página em outros idiomas",
        "privacy": "Privacidade",
        "privacy.title": "O que este site e o bot guardam",
        "privacy.site": "Este site",
        "privacy.bot": "O bot",
        "privacy.site.1": "Este site não usa cookies, não executa scripts e não carrega nada"
        " de outros sites: nem fontes, nem imagens, nem estatísticas, nem rastreadores. Cada"
        " página é HTML simples e uma folha de estilo, servidos do mesmo lugar.",
        "privacy.site.2": "Os links para plataformas e fontes levam você a esses sites, onde"
        " valem as regras deles.",
        "privacy.site.3": "O servidor web que hospeda estas páginas pode manter o registro"
        " técnico de acessos que todo servidor mantém; a configuração de exemplo que vem com o"
        " privacybot não mantém nenhum.",
        "footer": "Respostas da base de conhecimento do privacybot. Cada fato tem fonte e data:"
        " as plataformas mudam as configurações, então confira a data.",
        "topics.json": "Todos os temas como dados (JSON)",
        "choose_language": "Escolha seu idioma",
    },
    "de": {
        "skip": "Zum Inhalt springen",
        "home": "Alle Themen",
        "home.title": "Plattformen die Nutzung deiner Daten untersagen",
        "home.intro": "Schritt-für-Schritt-Antworten mit dem direkten Link zu jeder Einstellung"
        " und den Quellen zu jeder Aussage. Wähle eine Plattform oder was du tun möchtest.",
        "platforms": "Nach Plattform",
        "needs": "Nach Anliegen",
        "summary": "Kurz gesagt",
        "steps": "Schritte",
        "surface.web": "Im Web",
        "surface.ios": "In der iPhone-App",
        "surface.android": "In der Android-App",
        "link": "Einstellung direkt öffnen",
        "facts": "Was passiert",
        "caveats": "Gut zu wissen",
        "sources": "Quellen",
        "checked": "Zuletzt geprüft am",
        "no_date": "ohne Datum",
        "kind.official": "offiziell",
        "kind.regulator": "Behörde",
        "kind.press": "Presse",
        "kind.guide": "Ratgeber",
        "related": "Verwandte Themen",
        "languages": "Diese Seite in anderen Sprachen",
        "privacy": "Datenschutz",
        "privacy.title": "Was diese Website und der Bot speichern",
        "privacy.site": "Diese Website",
        "privacy.bot": "Der Bot",
        "privacy.site.1": "Diese Website setzt keine Cookies, führt keine Skripte aus und lädt"
        " nichts von anderen Websites: keine Schriften, Bilder, Statistiken oder Tracker. Jede"
        " Seite ist schlichtes HTML mit einem Stylesheet, vom selben Ort ausgeliefert.",
        "privacy.site.2": "Links zu Plattformen und Quellen führen auf deren Websites; dort"
        " gelten deren eigene Regeln.",
        "privacy.site.3": "Der Webserver, der diese Seiten ausliefert, kann das technische"
        " Zugriffsprotokoll führen, das jeder Server führt; die mit privacybot gelieferte"
        " Beispielkonfiguration führt keines.",
        "footer": "Antworten aus der Wissensdatenbank von privacybot. Jede Aussage hat eine"
        " Quelle und ein Datum: Plattformen ändern ihre Einstellungen, achte auf das Datum.",
        "topics.json": "Alle Themen als Daten (JSON)",
        "choose_language": "Sprache wählen",
    },
    "it": {
        "skip": "Vai al contenuto",
        "home": "Tutti gli argomenti",
        "home.title": "Impedisci alle piattaforme di usare i tuoi dati",
        "home.intro": "Risposte passo passo, con il link diretto a ogni impostazione e le"
        " fonti di ogni fatto. Scegli una piattaforma o cosa vuoi fare.",
        "platforms": "Per piattaforma",
        "needs": "Per cosa vuoi fare",
        "summary": "In breve",
        "steps": "Passaggi",
        "surface.web": "Sul web",
        "surface.ios": "Nell'app per iPhone",
        "surface.android": "Nell'app per Android",
        "link": "Apri direttamente l'impostazione",
        "facts": "Cosa succede",
        "caveats": "Da sapere",
        "sources": "Fonti",
        "checked": "Verificato il",
        "no_date": "senza data",
        "kind.official": "ufficiale",
        "kind.regulator": "autorità",
        "kind.press": "stampa",
        "kind.guide": "guida",
        "related": "Correlati",
        "languages": "Questa pagina in altre lingue",
        "privacy": "Privacy",
        "privacy.title": "Cosa conservano questo sito e il bot",
        "privacy.site": "Questo sito",
        "privacy.bot": "Il bot",
        "privacy.site.1": "Questo sito non usa cookie, non esegue script e non carica nulla"
        " da altri siti: né font, né immagini, né statistiche, né tracker. Ogni pagina è HTML"
        " semplice con un foglio di stile, serviti dallo stesso posto.",
        "privacy.site.2": "I link a piattaforme e fonti ti portano su quei siti, dove valgono"
        " le loro regole.",
        "privacy.site.3": "Il server web che ospita queste pagine può tenere il registro"
        " tecnico degli accessi che tiene ogni server; la configurazione di esempio fornita con"
        " privacybot non ne tiene.",
        "footer": "Risposte dalla base di conoscenza di privacybot. Ogni fatto ha una fonte e"
        " una data: le piattaforme cambiano le impostazioni, controlla la data.",
        "topics.json": "Tutti gli argomenti come dati (JSON)",
        "choose_language": "Scegli la lingua",
    },
    "ja": {
        "skip": "本文へ移動",
        "home": "すべてのトピック",
        "home.title": "プラットフォームにデータを使わせない方法",
        "home.intro": "各設定への直接リンクと、すべての事実の出典つきの手順です。"
        "プラットフォームか、やりたいことを選んでください。",
        "platforms": "プラットフォーム別",
        "needs": "やりたいこと別",
        "summary": "要点",
        "steps": "手順",
        "surface.web": "ウェブ",
        "surface.ios": "iPhoneアプリ",
        "surface.android": "Androidアプリ",
        "link": "設定を直接開く",
        "facts": "何が起きるか",
        "caveats": "注意点",
        "sources": "出典",
        "checked": "最終確認日",
        "no_date": "日付なし",
        "kind.official": "公式",
        "kind.regulator": "規制当局",
        "kind.press": "報道",
        "kind.guide": "解説",
        "related": "関連",
        "languages": "他の言語",
        "privacy": "プライバシー",
        "privacy.title": "このサイトとボットが保存するもの",
        "privacy.site": "このサイト",
        "privacy.bot": "ボット",
        "privacy.site.1": "このサイトはCookieを使わず、スクリプトを実行せず、"
        "他のサイトから何も読み込みません（フォント、画像、アクセス解析、トラッカーなし）。"
        "各ページは同じ場所から配信される素のHTMLと1つのスタイルシートだけです。",
        "privacy.site.2": "プラットフォームや出典へのリンク先では、"
        "そのサイトのルールが適用されます。",
        "privacy.site.3": "このページを配信するウェブサーバーは、どのサーバーにもある技術的な"
        "アクセスログを残すことがあります。privacybot に付属する設定例はログを残しません。",
        "footer": "privacybot のナレッジベースからの回答です。すべての事実に出典と日付があります。"
        "プラットフォームは設定を変えるので、日付を確認してください。",
        "topics.json": "全トピックのデータ（JSON）",
        "choose_language": "言語を選択",
    },
}

# The need vocabulary of the knowledge format, as headings on the home page.
NEEDS: dict[str, dict[str, str]] = {
    "en": {
        "ai_training": "Stop AI training on your data",
        "ai_chat_history": "Delete or stop keeping AI chats",
        "ai_features": "Turn off AI features",
        "activity_history": "Stop keeping your activity",
        "voice_recordings": "Voice recordings",
        "location_history": "Location history",
        "third_party_sharing": "Stop sharing with third parties",
        "ad_personalization": "Turn off personalized ads",
        "delete_account": "Delete your account",
        "download_data": "Download your data",
        "private_account": "Make your account private",
        "policy_changes": "Privacy policy changes",
        "claims_check": "Claims checked",
        "bot_help": "About this bot",
        "bot_privacy": "What this bot stores",
    },
    "fr": {
        "ai_training": "Empêcher l'entraînement d'IA sur vos données",
        "ai_chat_history": "Effacer ou ne plus garder les conversations avec une IA",
        "ai_features": "Désactiver les fonctions d'IA",
        "activity_history": "Ne plus garder votre activité",
        "voice_recordings": "Enregistrements vocaux",
        "location_history": "Historique des positions",
        "third_party_sharing": "Arrêter le partage avec des tiers",
        "ad_personalization": "Désactiver la publicité personnalisée",
        "delete_account": "Supprimer votre compte",
        "download_data": "Télécharger vos données",
        "private_account": "Rendre votre compte privé",
        "policy_changes": "Changements de politique de confidentialité",
        "claims_check": "Affirmations vérifiées",
        "bot_help": "À propos de ce bot",
        "bot_privacy": "Ce que ce bot conserve",
    },
    "es": {
        "ai_training": "Impedir el entrenamiento de IA con tus datos",
        "ai_chat_history": "Borrar o no guardar los chats con IA",
        "ai_features": "Desactivar funciones de IA",
        "activity_history": "Dejar de guardar tu actividad",
        "voice_recordings": "Grabaciones de voz",
        "location_history": "Historial de ubicaciones",
        "third_party_sharing": "Dejar de compartir con terceros",
        "ad_personalization": "Desactivar la publicidad personalizada",
        "delete_account": "Eliminar tu cuenta",
        "download_data": "Descargar tus datos",
        "private_account": "Hacer privada tu cuenta",
        "policy_changes": "Cambios en la política de privacidad",
        "claims_check": "Afirmaciones comprobadas",
        "bot_help": "Sobre este bot",
        "bot_privacy": "Qué guarda este bot",
    },
    "pt": {
        "ai_training": "Impedir o treinamento de IA com seus dados",
        "ai_chat_history": "Apagar ou não guardar conversas com IA",
        "ai_features": "Desativar recursos de IA",
        "activity_history": "Parar de guardar sua atividade",
        "voice_recordings": "Gravações de voz",
        "location_history": "Histórico de localização",
        "third_party_sharing": "Parar o compartilhamento com terceiros",
        "ad_personalization": "Desativar anúncios personalizados",
        "delete_account": "Excluir sua conta",
        "download_data": "Baixar seus dados",
        "private_account": "Tornar sua conta privada",
        "policy_changes": "Mudanças na política de privacidade",
        "claims_check": "Afirmações verificadas",
        "bot_help": "Sobre este bot",
        "bot_privacy": "O que este bot guarda",
    },
    "de": {
        "ai_training": "KI-Training mit deinen Daten stoppen",
        "ai_chat_history": "KI-Chats löschen oder nicht speichern",
        "ai_features": "KI-Funktionen ausschalten",
        "activity_history": "Aktivitätsverlauf nicht speichern",
        "voice_recordings": "Sprachaufnahmen",
        "location_history": "Standortverlauf",
        "third_party_sharing": "Weitergabe an Dritte stoppen",
        "ad_personalization": "Personalisierte Werbung ausschalten",
        "delete_account": "Konto löschen",
        "download_data": "Deine Daten herunterladen",
        "private_account": "Konto privat machen",
        "policy_changes": "Änderungen der Datenschutzrichtlinie",
        "claims_check": "Behauptungen geprüft",
        "bot_help": "Über diesen Bot",
        "bot_privacy": "Was dieser Bot speichert",
    },
    "it": {
        "ai_training": "Impedire l'addestramento dell'IA con i tuoi dati",
        "ai_chat_history": "Cancellare o non conservare le chat con l'IA",
        "ai_features": "Disattivare le funzioni di IA",
        "activity_history": "Non conservare la tua attività",
        "voice_recordings": "Registrazioni vocali",
        "location_history": "Cronologia delle posizioni",
        "third_party_sharing": "Smettere di condividere con terze parti",
        "ad_personalization": "Disattivare la pubblicità personalizzata",
        "delete_account": "Eliminare l'account",
        "download_data": "Scaricare i tuoi dati",
        "private_account": "Rendere privato l'account",
        "policy_changes": "Modifiche all'informativa sulla privacy",
        "claims_check": "Affermazioni verificate",
        "bot_help": "Su questo bot",
        "bot_privacy": "Cosa conserva questo bot",
    },
    "ja": {
        "ai_training": "AIの学習にデータを使わせない",
        "ai_chat_history": "AIとの会話を削除・保存しない",
        "ai_features": "AI機能をオフにする",
        "activity_history": "アクティビティを保存しない",
        "voice_recordings": "音声録音",
        "location_history": "位置情報の履歴",
        "third_party_sharing": "第三者との共有を止める",
        "ad_personalization": "パーソナライズ広告をオフにする",
        "delete_account": "アカウントを削除する",
        "download_data": "データをダウンロードする",
        "private_account": "アカウントを非公開にする",
        "policy_changes": "プライバシーポリシーの変更",
        "claims_check": "主張の検証",
        "bot_help": "このボットについて",
        "bot_privacy": "このボットが保存するもの",
    },
}


def site_text(language: str, key: str) -> str:
    """A fixed phrase of the site in ``language`` (English when it has none)."""
    return TEXTS.get(language, _EN).get(key) or _EN[key]


def need_label(language: str, need: str) -> str:
    """A need id's heading in ``language`` (English, then the id itself, as fallbacks)."""
    return NEEDS.get(language, {}).get(need) or NEEDS["en"].get(need) or need.replace("_", " ")
