"""Which of seven languages a short, messy message is written in.

General-purpose detectors are unreliable on three-word messages such as
"grok training off" or "instagram IA opposition", and they know nothing of
platform names ("zap", "Insta"). Three signals work better here (measured
against fastText, lingua and py3langid in ``bench/engine.py``):

- function words and frequent words of each language (accents folded away,
  because people drop them), and letters typical of one language (ñ ¿ ã ß);
- kana or kanji: Japanese, whose messages have no spaces to split on;
- which language's example questions in the knowledge base use the message's
  words (English and French today, every language the knowledge base has).

A platform's hint counts too: a Bluesky post's ``langs`` is what its author
declared and weighs like a word or two; Telegram's ``language_code`` is only
the interface language and breaks ties.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

SUPPORTED = ("en", "fr", "es", "pt", "de", "it", "ja")
DEFAULT = "en"

_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": """
        the a an how do does did i my me is are was to of in on at with from for and or what which
        who can could would should will stop off turn delete remove out about you your it this that
        not no don dont doesnt cant want need please pls keep using use used data account settings
        where why there their they them get make any have has training train share sharing posts
        privacy new policy download personalized ads phone app help tell thanks thank hi hello hey
        same question also too
        """,
        "fr": """
        le la les l un une des du au aux et ou comment je j mes mon ma moi sont quoi
        pour sur avec dans pas ne n plus sans ce cette ces il elle vous tu nous svp stp quel quelle
        quels quelles pourquoi puis peux peut faire arreter arrete desactiver supprimer empecher
        donnees compte parametres confidentialite entrainement entrainer utilise utiliser partage
        partager telecharger publicites politique appli telephone refuser aide gardes garde sais
        oui non merci bonjour salut ia c est qu ca bonsoir coucou de en bonne mrc mdr ptdr
        marche
        """,
        "es": """
        el los las del y o como cómo yo mis mi quiero puedo hago hacer que qué para por con sin
        en su sus una uno al desactivar desactivo eliminar borrar cuenta datos publicaciones
        entrenar entrene entrena deje dejar compartir terceros configuracion ajustes privacidad
        gracias hola buenas es esta está hay cuál cual donde dónde usar use usa usen fotos mis
        celular movil anuncios tambien también pero muy sobre mí ti hora buenos buenas cuando
        mejor donde porque aqui ahora quitar de receta hacer hago un sacar grupo le lo se
        puede pueden desactivo historial busquedas guardar perfil apago quiten jaja jajaja
        sus ustedes usted estoy tengo tiene necesito oye eso esto
        """,
        "pt": """
        o os as do da dos das e ou como eu meu meus minha minhas quero posso fazer que pra para
        por com sem no na nos nas um uma desativar desligar excluir apagar conta dados treinar
        treina treinamento deixar compartilhar terceiros configuracoes privacidade obrigado
        obrigada oi ola voce vc voces e tem dá da pra celular tambem nao não usar usa use usem
        fotos anuncios sobre mim até ate seu sua qual quais melhor onde porque aqui agora
        quando deixa deixar tirar zap de apagar excluir baixar valeu historico perfil
        pare parar estou tenho preciso voces ne ta kkk kkkk kkkkk rs vcs dele dela isso
        esse essa desativo desligo
        """,
        "de": """
        der die das den dem des ein eine einen und oder wie ich mein meine meinen meiner mich mir
        ist sind zu von mit für fur fuer auf im in nicht kein keine was wo warum kann können
        konnen will möchte mochte bitte danke hallo deaktivieren löschen loschen konto daten
        training trainieren einstellungen datenschutz werbung auch aber soll sollen darf dürfen
        wird werden es sie er wir ihr herunter handy du kannst dich dir mache machen
        verbiete verbieten loschen ki ausschalten abschalten anzeigen personalisierte
        widersprechen widerspruch aus raus gruppe unseren unser vom zum zur stellen geht bei
        nur noch schon alle meinen meinem verlauf konto moin servus tschuss hey gibt
        """,
        "it": """
        il lo gli la le un una uno del della dei delle e o come io mio miei mia mie voglio posso
        fare che per con senza nel nella su non di da disattivare eliminare cancellare account
        dati addestrare addestramento smettere condividere terzi impostazioni privacy grazie
        ciao buongiorno è sono usare usi usa mie chat anche ma cellulare telefono salvare
        impedire faccio tempo fa domani cosa sai dove quando perche profilo privato chiudere
        cronologia ricerche gruppo togliere dal dai dalle col alla gli sul sulla vorrei
        ahah ahahah ahahahah posso puoi
        """,
    }.items()
}
# Function words of several languages ("que", "en", "con"): the knowledge base's
# examples (English and French only today) must not make them French.
_SHARED: frozenset[str] = frozenset(
    w
    for lang, words in _WORDS.items()
    for w in words
    if any(w in other for o, other in _WORDS.items() if o != lang)
)
_CHARS: dict[str, re.Pattern[str]] = {
    "fr": re.compile(r"[éèêëàâîïôûùüçœæÉÈÊÀÇ«»]"),
    "es": re.compile(r"[ñ¿¡áíóúÑÁÍÓÚ]"),
    "pt": re.compile(r"[ãõçâêôáéíóúàÃÕ]"),
    "de": re.compile(r"[äöüßÄÖÜ]"),
    "it": re.compile(r"[àèéìòù]"),
}
# Endings typical of one language ("personalisierung", "configuración",
# "configuração", "impostazione"): short messages often have no function word.
_ENDINGS: dict[str, re.Pattern[str]] = {
    "de": re.compile(r"(?:ung|ungen|keit|heit|lich|ieren|iert|schalten|stellen|chen|isch)$"),
    "es": re.compile(r"(?:cion|ciones|idad|idades|amos|ndome|arme|erme)$"),
    "pt": re.compile(r"(?:cao|coes|dade|dades|inho|inha|ando-me|amos|lhe)$"),
    "it": re.compile(r"(?:zione|zioni|ggio|tta|mente|ndo|arlo|armi|ermi)$"),
}
# Laughter as each language writes it: "www" (Japanese), "kkkk" (Portuguese).
_LAUGH: dict[str, re.Pattern[str]] = {
    "ja": re.compile(r"^w{3,}$"),
    "pt": re.compile(r"^(?:k{3,}|(?:rs){2,})$"),
    "es": re.compile(r"^(?:ja){2,}j?$"),
    "it": re.compile(r"^(?:ah){2,}a?$"),
    "fr": re.compile(r"^(?:mdr|ptdr)+$"),
}
_KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u4e00-\u9fff]")


class LanguageGuesser:
    """Guesses one of :data:`SUPPORTED` from a message.

    Args:
        examples: ``(language, tokens)`` pairs from the knowledge base's example
            questions; the words each language uses become evidence.
    """

    def __init__(self, examples: Iterable[tuple[str, list[str]]]) -> None:
        counts: dict[str, Counter[str]] = {}
        for lang, toks in examples:
            if lang in SUPPORTED:
                counts.setdefault(lang, Counter()).update(set(toks))
        self._evidence: dict[str, dict[str, float]] = {}
        self._names: frozenset[str] = frozenset()
        langs = list(counts)
        vocabulary = set().union(*counts.values()) if counts else set()
        for word in vocabulary:
            per = {lang: counts[lang][word] for lang in langs}
            total = sum(per.values())
            # Smoothed log-odds of one language against the others: a word seen
            # only in French examples counts for French.
            self._evidence[word] = {
                lang: math.log((n + 0.5) / (total - n + 0.5)) for lang, n in per.items()
            }

    def ignore_names(self, words: Iterable[str]) -> None:
        """Words that only name platforms ("whatsapp", "intelligence" of Apple
        Intelligence): the knowledge base's examples are English and French, so
        their use there says nothing of the message's language."""
        self._names = frozenset(words)

    def scores(self, raw_text: str, toks: list[str]) -> dict[str, float]:
        """Evidence for each language (higher is more likely)."""
        raw = raw_text[:4000]
        score = dict.fromkeys(SUPPORTED, 0.0)
        kana = len(_KANA.findall(raw))
        han = len(_HAN.findall(raw))
        if kana or han:
            score["ja"] += 3.0 + min(kana + han, 20) * 0.5
        for tok in toks:
            for lang, laugh in _LAUGH.items():
                if laugh.match(tok):
                    score[lang] += 1.0
            for lang, words in _WORDS.items():
                if tok in words:
                    score[lang] += 1.0
            if len(tok) >= 5 and tok not in self._names:
                for lang, ending in _ENDINGS.items():
                    if ending.search(tok) and tok not in self._evidence:
                        score[lang] += 0.5
            ev = self._evidence.get(tok)
            if ev is not None and tok not in _SHARED and len(tok) >= 3 and tok not in self._names:
                for lang, value in ev.items():
                    if value > 0:
                        score[lang] += min(1.5, value) * 0.3
        for lang, pattern in _CHARS.items():
            score[lang] += min(len(pattern.findall(raw)), 3) * 0.75
        return score

    def guess(
        self, raw_text: str, toks: list[str], hint: str | None = None, *, declared: bool = False
    ) -> str:
        """Pick the language of a message.

        Args:
            raw_text: The message as written (accents and scripts are evidence).
            toks: Its cleaned tokens, stop words included.
            hint: A language code from the platform.
            declared: True when the author declared it (Bluesky ``langs``): it
                then weighs like a word or two; otherwise it only breaks ties.

        Returns:
            One of :data:`SUPPORTED`.
        """
        score = self.scores(raw_text, toks)
        hinted = normalize_hint(hint)
        if hinted is not None and declared:
            score[hinted] += 1.5
        ranked = sorted(score.items(), key=lambda item: item[1], reverse=True)
        (best, top), (_, second) = ranked[0], ranked[1]
        if top - second > 0.25:
            return best
        tied = {lang for lang, s in ranked if top - s <= 0.25}
        if hinted in tied:
            return hinted
        if top <= 0.25:
            return hinted or DEFAULT
        return DEFAULT if DEFAULT in tied else best


def normalize_hint(hint: str | None) -> str | None:
    """Map a platform language code (``fr-CA``, ``pt_BR``) to a supported language."""
    if not hint:
        return None
    base = hint.strip().lower().replace("_", "-").split("-", 1)[0]
    return base if base in SUPPORTED else None
