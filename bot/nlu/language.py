"""Telling English from French in short, messy messages.

General-purpose detectors are unreliable on three-word messages such as
"grok training off" or "instagram IA opposition". Two signals work better here:
function words and accents typical of each language, and which language's
example questions in the knowledge base use the message's words. The platform's
hint (Telegram ``language_code``, Bluesky ``langs``) only breaks ties.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

SUPPORTED = ("en", "fr")
DEFAULT = "en"

_EN_WORDS = frozenset(
    """
    the a an how do does did i my me is are was to of in on at with from for and or what which
    who can could would should will stop off turn delete remove out about you your it this that
    not no don dont doesnt cant want need please pls keep using use used data account settings
    where why there their they them get make any have has training train share sharing posts
    privacy new policy download personalized ads phone app want help tell
    """.split()
)
_FR_WORDS = frozenset(
    """
    le la les l un une des de d du au aux et ou comment je j mes mon ma moi est sont que qu quoi
    pour sur avec dans pas ne n plus sans ce cette ces il elle vous tu nous svp stp quel quelle
    quels quelles pourquoi puis peux peut faire arreter arrete desactiver supprimer empecher
    donnees compte parametres confidentialite entrainement entrainer utilise utiliser partage
    partager telecharger publicites politique appli telephone refuser aide gardes garde sais
    oui non merci bonjour salut ia
    """.split()
)
_FR_CHARS = re.compile(r"[éèêëàâîïôûùüçœæÉÈÊÀÇ«»]")


class LanguageGuesser:
    """Guesses ``en`` or ``fr`` from cleaned tokens.

    Args:
        examples: ``(language, tokens)`` pairs from the knowledge base's example
            questions; the words each language uses become evidence.
    """

    def __init__(self, examples: Iterable[tuple[str, list[str]]]) -> None:
        counts: dict[str, Counter[str]] = {lang: Counter() for lang in SUPPORTED}
        for lang, toks in examples:
            if lang in counts:
                counts[lang].update(set(toks))
        self._evidence: dict[str, float] = {}
        for word in set(counts["en"]) | set(counts["fr"]):
            en, fr = counts["en"][word], counts["fr"][word]
            # Smoothed log-odds: a word seen only in French examples counts for French.
            self._evidence[word] = math.log((fr + 0.5) / (en + 0.5))

    def scores(self, raw_text: str, toks: list[str]) -> float:
        """Return a French-minus-English score; positive means French."""
        score = 0.0
        for tok in toks:
            if tok in _FR_WORDS:
                score += 1.0
            if tok in _EN_WORDS:
                score -= 1.0
            ev = self._evidence.get(tok)
            if ev is not None:
                score += max(-1.5, min(1.5, ev)) * 0.5
        accents = len(_FR_CHARS.findall(raw_text[:4000]))
        score += min(accents, 3) * 0.75
        return score

    def guess(self, raw_text: str, toks: list[str], hint: str | None = None) -> str:
        """Pick the reply language.

        Args:
            raw_text: The message as written (accents are evidence).
            toks: Its cleaned tokens, stop words included.
            hint: A language code from the platform, used only on a tie.

        Returns:
            ``en`` or ``fr``.
        """
        score = self.scores(raw_text, toks)
        if score > 0.25:
            return "fr"
        if score < -0.25:
            return "en"
        return normalize_hint(hint) or DEFAULT


def normalize_hint(hint: str | None) -> str | None:
    """Map a platform language code (``fr-CA``, ``en_US``) to a supported language."""
    if not hint:
        return None
    base = hint.strip().lower().replace("_", "-").split("-", 1)[0]
    return base if base in SUPPORTED else None
