"""Which topic a question is about, and how sure we are.

A nearest-neighbour matcher over the knowledge base's example questions, on
stemmed, synonym-folded words weighted by how specific they are to a topic
(inverse topic frequency). Each topic scores the best of its examples blended
with its whole vocabulary, so both a close paraphrase and a question mixing
words from several examples are recognised. Unknown words are corrected to the
nearest known word (typos such as "trainng"); platforms named in the question
("facebook", "grok") rule out topics of other platforms.

It works on a few dozen features per question through an inverted index, which
keeps a question well under a millisecond, and never guesses: below a
threshold the caller gets no topic and says so.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.kb.loader import KnowledgeBase
from bot.kb.schema import LANGUAGES
from bot.nlu.language import LanguageGuesser
from bot.nlu.normalize import STOPWORDS, SYNONYMS, canonical, clean, stems

# Names of platforms, as cleaned and folded tokens, with the platform id they mean.
PLATFORM_WORDS: dict[str, str] = {
    "x": "x",
    "grok": "x",
    "elon": "x",
    "musk": "x",
    "facebook": "meta",
    "instagram": "meta",
    "meta": "meta",
    "whatsapp": "meta",
    "linkedin": "linkedin",
    "gemini": "google",
    "google": "google",
    "chatgpt": "openai",
    "openai": "openai",
    "bluesky": "bluesky",
    "claude": "anthropic",
    "anthropic": "anthropic",
    "copilot": "microsoft",
    "microsoft": "microsoft",
    "reddit": "reddit",
    "tiktok": "tiktok",
    "snapchat": "snapchat",
}

_SURFACES: list[tuple[str, re.Pattern[str]]] = [
    ("ios", re.compile(r"\b(?:ios|iphone|ipad|apple)\b")),
    ("android", re.compile(r"\b(?:android|samsung|pixel|galaxy|xiaomi|huawei)\b")),
    (
        "web",
        re.compile(
            r"\b(?:web|website|browser|navigateur|ordi|ordinateur|computer|pc|desktop|laptop"
            r"|mac|chrome|firefox|safari|site)\b"
        ),
    ),
    (
        "app",
        re.compile(
            r"\b(?:app|apps|appli|application|phone|telephone|mobile|portable|smartphone|tel|cell|cellulaire)\b"
        ),
    ),
]


# Device words say where, not what: they pick the steps, never the topic.
SURFACE_WORDS: frozenset[str] = frozenset(
    """ios iphone ipad apple android samsung pixel galaxy xiaomi huawei web website browser
    navigateur ordi ordinateur computer pc desktop laptop mac chrome firefox safari app apps
    appli application phone telephone mobile portable smartphone tel cell cellulaire""".split()
)


def detect_surface(cleaned: str) -> str | None:
    """Return ``web``, ``ios``, ``android``, ``app`` (a phone, OS unknown) or None."""
    for surface, pattern in _SURFACES:
        if pattern.search(cleaned):
            return surface
    return None


@dataclass(frozen=True, slots=True)
class Match:
    """What the matcher understood.

    Attributes:
        topic_id: The best topic, or None when nothing is close enough.
        confidence: 0..1, the best topic's score.
        language: ``en`` or ``fr``.
        surface: The surface the person named, if any.
        ranked: Every topic with a score above zero, best first.
        ambiguous: True when the two best topics are too close to choose.
    """

    topic_id: str | None
    confidence: float
    language: str
    surface: str | None
    ranked: tuple[tuple[str, float], ...]
    ambiguous: bool = False


class Matcher:
    """Topic matcher built once per knowledge base.

    Args:
        kb: The validated knowledge base.
        threshold: Minimum score to answer with a topic.
        margin: If the second-best topic is within this margin and above the
            threshold, the question is ambiguous and the person is asked.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        threshold: float = 0.30,
        margin: float = 0.04,
        unknown_weight: float = 1.0,
    ) -> None:
        self.threshold = threshold
        self.margin = margin
        self.unknown_weight = unknown_weight
        self._topic_ids: list[str] = list(kb.topics)
        self._platform_of: list[str] = [kb.topics[t].platform for t in self._topic_ids]
        docs: list[tuple[int, list[str]]] = []
        lang_examples: list[tuple[str, list[str]]] = []
        vocab: set[str] = set(STOPWORDS) | set(PLATFORM_WORDS) | set(SYNONYMS)
        for index, topic_id in enumerate(self._topic_ids):
            topic = kb.topics[topic_id]
            for lang in LANGUAGES:
                loc = topic.lang(lang)
                for text in loc.examples:
                    toks = clean(text).split()
                    vocab.update(toks)
                    lang_examples.append((lang, toks))
                    docs.append((index, toks))
                extra = clean(" ".join([loc.title, *loc.keywords])).split()
                vocab.update(extra)
                docs.append((index, extra))
        self.language = LanguageGuesser(lang_examples)
        self._vocab = sorted(v for v in vocab if len(v) >= 3)
        self._vocab_set = set(vocab)

        # Inverse topic frequency: a word used by one topic says more than one used by ten.
        feats_per_doc = [(index, self._features(toks)) for index, toks in docs]
        topic_df: dict[str, set[int]] = defaultdict(set)
        for index, feats in feats_per_doc:
            for f in feats:
                topic_df[f].add(index)
        n_topics = len(self._topic_ids)
        self._idf = {f: math.log(1.0 + n_topics / len(ts)) for f, ts in topic_df.items()}

        # Example-level vectors (titles and keywords count as examples too)...
        self._doc_topic: list[int] = []
        self._doc_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for doc_id, (index, feats) in enumerate(feats_per_doc):
            weights = {f: self._idf[f] for f in feats}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            self._doc_topic.append(index)
            for f, w in weights.items():
                self._doc_index[f].append((doc_id, w / norm))
        # ...and topic-level vectors: the topic's whole vocabulary, counts dampened.
        centroid: list[dict[str, float]] = [defaultdict(float) for _ in self._topic_ids]
        for index, feats in feats_per_doc:
            for f in feats:
                centroid[index][f] += 1.0
        self._topic_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, counts in enumerate(centroid):
            weights = {f: (1.0 + math.log(c)) * self._idf[f] for f, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for f, w in weights.items():
                self._topic_index[f].append((index, w / norm))
        self._correct = lru_cache(maxsize=16384)(self._correct_uncached)

    @staticmethod
    def _features(toks: list[str]) -> set[str]:
        """Stemmed features of tokens; platform names are kept whole (``x``, ``grok``)."""
        feats: set[str] = set()
        for tok in toks:
            tok = canonical(tok)
            if tok in PLATFORM_WORDS:
                feats.add(tok)
            elif tok not in STOPWORDS and tok not in SURFACE_WORDS and len(tok) >= 2:
                feats.update(stems(tok))
        return feats

    def _correct_uncached(self, token: str) -> str:
        """Replace an unknown word by the closest known one, if close enough.

        One edit (a transposition counts as one) for words of five letters or
        more, two from nine letters: enough for "trainng" or "linkdin", not
        enough to turn "montreal" into "montrer".
        """
        if token in self._vocab_set or len(token) < 5 or token.isdigit():
            return token
        limit = 2 if len(token) >= 9 else 1
        found = process.extractOne(
            token, self._vocab, scorer=OSA.distance, score_cutoff=limit
        )
        return found[0] if found else token

    def understand(
        self, text: str, *, language_hint: str | None = None, surface_hint: str | None = None
    ) -> Match:
        """Match a question to a topic.

        Args:
            text: What the person wrote.
            language_hint: Platform language code; breaks ties only.
            surface_hint: Surface the channel knows of, used if the text names none.

        Returns:
            The :class:`Match`.
        """
        cleaned = clean(text)
        raw_toks = cleaned.split()
        toks = [self._correct(t) for t in raw_toks]
        language = self.language.guess(text, toks, language_hint)
        surface = detect_surface(" ".join(toks)) or surface_hint
        query = {f: self._idf[f] for f in self._features(toks) if f in self._idf}
        named = {PLATFORM_WORDS[canonical(t)] for t in toks if canonical(t) in PLATFORM_WORDS}
        # Words no example uses make the question less like any topic ("followers",
        # "weather"); long messages carry such context words too, so their weight
        # grows more slowly past the first few.
        unknown = sum(
            1
            for t in toks
            if t not in STOPWORDS
            and t not in SURFACE_WORDS
            and canonical(t) not in self._vocab_set
            and len(t) > 1
        )
        if not any(f not in PLATFORM_WORDS for f in query):
            # Only a platform's name matched: "grok?" deserves a choice of its
            # topics, "how to get more followers on bluesky" does not.
            if named and not unknown:
                return self._platform_only(named, language, surface)
            return Match(None, 0.0, language, surface, ())
        penalty = unknown if unknown <= 3 else 3 + math.sqrt(unknown - 3)
        qnorm = math.sqrt(sum(w * w for w in query.values()) + self.unknown_weight * penalty)

        best_doc: dict[int, float] = defaultdict(float)
        for f, qw in query.items():
            for doc_id, dw in self._doc_index.get(f, ()):
                best_doc[doc_id] += qw * dw
        example_score = [0.0] * len(self._topic_ids)
        for doc_id, s in best_doc.items():
            index = self._doc_topic[doc_id]
            if s > example_score[index]:
                example_score[index] = s
        topic_score = [0.0] * len(self._topic_ids)
        for f, qw in query.items():
            for index, tw in self._topic_index.get(f, ()):
                topic_score[index] += qw * tw

        scored: list[tuple[str, float]] = []
        for index, topic_id in enumerate(self._topic_ids):
            s = (0.6 * example_score[index] + 0.4 * topic_score[index]) / qnorm
            if named and self._platform_of[index] not in named and self._platform_of[index] != "bot":
                s *= 0.35
            if s > 0:
                scored.append((topic_id, min(1.0, s)))
        scored.sort(key=lambda item: item[1], reverse=True)
        ranked = tuple(scored)
        if not ranked or ranked[0][1] < self.threshold:
            return Match(None, ranked[0][1] if ranked else 0.0, language, surface, ranked)
        top_id, top = ranked[0]
        ambiguous = len(ranked) > 1 and ranked[1][1] >= self.threshold and (
            top - ranked[1][1] < self.margin
        )
        return Match(top_id, top, language, surface, ranked, ambiguous=ambiguous)

    def _platform_only(self, named: set[str], language: str, surface: str | None) -> Match:
        """A message that only names a platform ("grok?") gets that platform's main topics."""
        candidates = [
            (t, self.threshold)
            for t, p in zip(self._topic_ids, self._platform_of, strict=True)
            if p in named
        ][:3]
        if not candidates:
            return Match(None, 0.0, language, surface, ())
        return Match(
            candidates[0][0], self.threshold, language, surface, tuple(candidates), ambiguous=True
        )
