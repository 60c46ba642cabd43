"""Which topic a question is about, and how sure we are.

Two views of the same examples, on stemmed, synonym-folded words:

- a nearest-neighbour similarity, weighted by how specific each word is to a
  topic (inverse topic frequency), blending the best example with the topic's
  whole vocabulary. It says how close a question is to anything people ask, and
  words that no example uses ("followers", "weather") lower it;
- a linear classifier (:mod:`bot.nlu.classifier`) trained on the examples plus
  out-of-scope examples (``out_of_scope.yaml``), which learns the words that
  decide between neighbouring topics and recognises everyday questions that are
  not about privacy.

A topic is answered only when the classifier prefers it to "out of scope" and
the similarity is high enough; when two topics are close, the person is asked.
Unknown words are corrected to the nearest known word (typos such as
"trainng"); platforms named in the question ("facebook", "grok") rule out
topics of other platforms. A question costs a few dozen feature look-ups, well
under a millisecond.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.kb.loader import KnowledgeBase
from bot.kb.schema import LANGUAGES, REQUIRED_LANGUAGES
from bot.nlu.classifier import SparseSoftmax, fit_cached
from bot.nlu.language import LanguageGuesser
from bot.nlu.normalize import STOPWORDS, SYNONYMS, canonical, clean, phrases_pattern, stems

OUT_OF_SCOPE_FILE = Path(__file__).with_name("out_of_scope.yaml")
MAX_RANKED = 20
"""Topics kept in a match's ranking (the rest cannot be offered or answered anyway)."""
# Spelling correction toward the knowledge base's words, in the languages whose
# examples cover most of what people write (it would turn German "meine" into "mine").
_CORRECTED = ("en", "fr")
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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
    ("android", re.compile(r"\b(?:android|samsung|pixel|galaxy|xiaomi|huawei|motorola)\b")),
    (
        "web",
        re.compile(
            r"\b(?:web|website|browser|navigateur|ordi|ordinateur|computer|pc|desktop|laptop"
            r"|mac|chrome|firefox|safari|site|navegador|computadora|ordenador|computador"
            r"|webseite|rechner|sitio|browsers)\b"
        ),
    ),
    (
        "app",
        re.compile(
            r"\b(?:app|apps|appli|application|phone|telephone|mobile|portable|smartphone|tel"
            r"|cell|cellulaire|celular|movil|aplicacion|aplicativo|aplicacao|handy|telefono"
            r"|cellulare|applicazione)\b"
        ),
    ),
]
# Japanese has no spaces and no Latin letters: read the raw text.
_SURFACES_JA: list[tuple[str, re.Pattern[str]]] = [
    ("ios", re.compile(r"アイフォン|アイフォーン|iPhone|iOS|アイパッド")),
    ("android", re.compile(r"アンドロイド")),
    ("web", re.compile(r"ブラウザ|パソコン|ウェブ|ＰＣ")),
    ("app", re.compile(r"スマホ|アプリ|携帯|スマートフォン")),
]


# Device words say where, not what: they pick the steps, never the topic.
SURFACE_WORDS: frozenset[str] = frozenset(
    """ios iphone ipad apple android samsung pixel galaxy xiaomi huawei web website browser
    navigateur ordi ordinateur computer pc desktop laptop mac chrome firefox safari app apps
    appli application phone telephone mobile portable smartphone tel cell cellulaire celular
    movil aplicacion aplicativo aplicacao handy telefono cellulare applicazione navegador
    computadora ordenador computador webseite rechner sitio motorola browsers""".split()
)


def detect_surface(cleaned: str, raw: str = "") -> str | None:
    """Return ``web``, ``ios``, ``android``, ``app`` (a phone, OS unknown) or None.

    Args:
        cleaned: The cleaned text (:func:`bot.nlu.normalize.clean`).
        raw: The text as written, for Japanese device words.
    """
    for surface, pattern in _SURFACES:
        if pattern.search(cleaned):
            return surface
    if raw and not raw.isascii():
        for surface, pattern in _SURFACES_JA:
            if pattern.search(raw[:4000]):
                return surface
    return None


@dataclass(frozen=True, slots=True)
class Match:
    """What the matcher understood.

    Attributes:
        topic_id: The best topic, or None when nothing is close enough.
        confidence: 0..1, the best topic's score.
        language: The language the person wrote in (one of seven).
        surface: The surface the person named, if any.
        ranked: The best topics (at most :data:`MAX_RANKED`) with a score above
            zero, best first.
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
        threshold: Minimum similarity to answer with a topic.
        ambiguity: When the second topic's probability is at least this share
            of the first's, the question is ambiguous and the person is asked.
        unknown_weight: How much each word unknown to the knowledge base lowers
            the similarity.
        out_of_scope: Out-of-scope examples by language; read from
            ``out_of_scope.yaml`` when None.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        threshold: float = 0.20,
        ambiguity: float = 0.75,
        unknown_weight: float = 2.0,
        out_of_scope: dict[str, list[str]] | None = None,
    ) -> None:
        self.threshold = threshold
        self.ambiguity = ambiguity
        self.unknown_weight = unknown_weight
        self._topic_ids: list[str] = list(kb.topics)
        self._platform_of: list[str] = [kb.topics[t].platform for t in self._topic_ids]
        # Narrow topics that only apply when the question names what they are about.
        self._requires: list[re.Pattern[str] | None] = [
            phrases_pattern(kb.topics[t].requires) for t in self._topic_ids
        ]
        self._with_requires = [i for i, r in enumerate(self._requires) if r is not None]
        docs: list[tuple[int, list[str]]] = []
        lang_examples: list[tuple[str, list[str]]] = []
        vocab: set[str] = set(STOPWORDS) | set(PLATFORM_WORDS) | set(SYNONYMS)
        for index, topic_id in enumerate(self._topic_ids):
            topic = kb.topics[topic_id]
            # English and French only until the engine learns the other languages:
            # translated examples would otherwise outweigh the out-of-scope class.
            for lang in REQUIRED_LANGUAGES:
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
        # Words of topics count as known; out-of-scope words are only known to the
        # spelling corrector, so that "followers" is not corrected into "follow".
        self._vocab_set = set(vocab)
        oos_docs = [clean(t).split() for t in _out_of_scope_examples(out_of_scope)]
        self._vocab = sorted({v for v in vocab.union(*oos_docs) if len(v) >= 3})

        feats_per_doc = [(index, self._features(toks)) for index, toks in docs]
        self._idf = self._inverse_topic_frequency(feats_per_doc)
        self._build_neighbours(feats_per_doc)
        self._none = len(self._topic_ids)
        samples = [(self._unit(feats), index) for index, feats in feats_per_doc if feats]
        samples += [(self._unit(f), self._none) for f in map(self._features, oos_docs) if f]
        # Trained once per knowledge base content, then loaded from the cache.
        self._classifier = fit_cached(SparseSoftmax(len(self._topic_ids) + 1), samples)
        self._correct = lru_cache(maxsize=16384)(self._correct_uncached)

    def _inverse_topic_frequency(
        self, feats_per_doc: list[tuple[int, set[str]]]
    ) -> dict[str, float]:
        """A word used by one topic says more than one used by ten."""
        topic_df: dict[str, set[int]] = defaultdict(set)
        for index, feats in feats_per_doc:
            for f in feats:
                topic_df[f].add(index)
        n_topics = len(self._topic_ids)
        return {f: math.log(1.0 + n_topics / len(ts)) for f, ts in topic_df.items()}

    def _build_neighbours(self, feats_per_doc: list[tuple[int, set[str]]]) -> None:
        """Index example vectors and topic vectors (word share in the topic times idf)."""
        self._doc_topic: list[int] = []
        self._doc_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for doc_id, (index, feats) in enumerate(feats_per_doc):
            norm = math.sqrt(sum(self._idf[f] ** 2 for f in feats)) or 1.0
            self._doc_topic.append(index)
            for f in feats:
                self._doc_index[f].append((doc_id, self._idf[f] / norm))
        counts: list[dict[str, float]] = [defaultdict(float) for _ in self._topic_ids]
        n_docs = [0] * len(self._topic_ids)
        for index, feats in feats_per_doc:
            n_docs[index] += 1
            for f in feats:
                counts[index][f] += 1.0
        self._topic_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, topic_counts in enumerate(counts):
            weights = {f: c / n_docs[index] * self._idf[f] for f, c in topic_counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for f, w in weights.items():
                self._topic_index[f].append((index, w / norm))
        # The same postings as arrays: a question's similarity to every example and
        # every topic is then a few numpy calls, not a Python loop over postings
        # (which grows with the knowledge base).
        self._n_docs = len(self._doc_topic)
        self._doc_postings = {
            f: (
                np.fromiter((d for d, _ in p), np.int64),
                np.fromiter((w for _, w in p), np.float64),
            )
            for f, p in self._doc_index.items()
        }
        self._topic_postings = {
            f: (
                np.fromiter((t for t, _ in p), np.int64),
                np.fromiter((w for _, w in p), np.float64),
            )
            for f, p in self._topic_index.items()
        }
        doc_topic = np.asarray(self._doc_topic, dtype=np.int64)
        # Examples are indexed topic by topic, so each topic's are one run.
        self._topic_starts = np.searchsorted(doc_topic, np.arange(len(self._topic_ids)))
        self._has_docs = np.isin(np.arange(len(self._topic_ids)), doc_topic)
        self._platform_array = np.asarray(self._platform_of)

    @staticmethod
    def _unit(feats: set[str]) -> dict[str, float]:
        value = 1.0 / math.sqrt(len(feats)) if feats else 0.0
        return dict.fromkeys(feats, value)

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
        found = process.extractOne(token, self._vocab, scorer=OSA.distance, score_cutoff=limit)
        return found[0] if found else token

    def _similarities(self, query: dict[str, float], qnorm: float) -> np.ndarray:
        """Blend of best-example and whole-topic cosine similarity, per topic (vectorised)."""
        n_topics = len(self._topic_ids)
        docs = [self._doc_postings[f] for f in query if f in self._doc_postings]
        if docs:
            ids = np.concatenate([d for d, _ in docs])
            weights = np.concatenate(
                [
                    w * query[f]
                    for f, (_, w) in zip(
                        (f for f in query if f in self._doc_postings), docs, strict=True
                    )
                ]
            )
            by_doc = np.bincount(ids, weights=weights, minlength=self._n_docs)
            example = np.maximum.reduceat(by_doc, self._topic_starts) * self._has_docs
        else:
            example = np.zeros(n_topics)
        topics = [(f, self._topic_postings[f]) for f in query if f in self._topic_postings]
        if topics:
            topic_ids = np.concatenate([t for _, (t, _) in topics])
            topic_weights = np.concatenate([w * query[f] for f, (_, w) in topics])
            topic: np.ndarray = np.bincount(topic_ids, weights=topic_weights, minlength=n_topics)
        else:
            topic = np.zeros(n_topics, dtype=np.float64)
        return np.minimum(1.0, (0.3 * example + 0.7 * topic) / qnorm)

    def understand(
        self,
        text: str,
        *,
        language_hint: str | None = None,
        surface_hint: str | None = None,
        declared: bool = False,
        extra: str = "",
    ) -> Match:
        """Match a question to a topic.

        Args:
            text: What the person wrote.
            language_hint: Platform language code; breaks ties only, unless declared.
            surface_hint: Surface the channel knows of, used if the text names none.
            declared: The author declared the language (Bluesky ``langs``).
            extra: Words that count for the topic, not for the language (a
                pasted link's address spelled out).

        Returns:
            The :class:`Match`.
        """
        raw_toks = clean(text).split()
        # The language first, on the words as written: the spelling corrector knows
        # English and French words only and would turn German "meine" into "mine".
        language = self.language.guess(text, raw_toks, language_hint, declared=declared)
        if extra:
            raw_toks += clean(extra).split()
        toks = [self._correct(t) for t in raw_toks] if language in _CORRECTED else raw_toks
        joined = " ".join(toks)
        surface = detect_surface(joined, text) or surface_hint
        feats = self._features(toks)
        query = {f: self._idf[f] for f in feats if f in self._idf}
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
        similarity = self._similarities(query, qnorm)
        probs = self._classifier.predict_proba(self._unit(feats))

        scores = np.asarray(probs[: len(self._topic_ids)], dtype=np.float64)
        if named:
            # "delete my facebook account" is not about X.
            other = ~np.isin(self._platform_array, [*named, "bot"])
            scores = np.where(other, scores * 0.35, scores)
        keep = similarity > 0
        for index in self._with_requires:
            required = self._requires[index]
            if required is not None and not required.search(joined):
                keep[index] = False
        candidates = np.flatnonzero(keep)
        order = candidates[np.argsort(-scores[candidates], kind="stable")][:MAX_RANKED]
        ranked = tuple((self._topic_ids[i], float(scores[i])) for i in order)
        if not ranked:
            return Match(None, 0.0, language, surface, ())
        top_id, top = ranked[0]
        top_similarity = float(similarity[order[0]])
        confidence = round(math.sqrt(top * top_similarity), 4)
        if top <= float(probs[self._none]) or top_similarity < self.threshold:
            return Match(None, confidence, language, surface, ranked)
        ambiguous = len(ranked) > 1 and ranked[1][1] >= self.ambiguity * top
        return Match(top_id, confidence, language, surface, ranked, ambiguous=ambiguous)

    def _platform_only(self, named: set[str], language: str, surface: str | None) -> Match:
        """A message that only names a platform ("grok?") gets that platform's main topics."""
        candidates = [
            (t, 1.0 / 3)
            for t, p in zip(self._topic_ids, self._platform_of, strict=True)
            if p in named
        ][:3]
        if not candidates:
            return Match(None, 0.0, language, surface, ())
        return Match(candidates[0][0], 0.0, language, surface, tuple(candidates), ambiguous=True)


def _out_of_scope_examples(given: dict[str, list[str]] | None) -> list[str]:
    """Rasa-style out-of-scope examples: everyday questions that are not about privacy."""
    if given is None:
        try:
            given = (
                yaml.load(OUT_OF_SCOPE_FILE.read_text(encoding="utf-8"), Loader=_SafeLoader) or {}
            )
        except FileNotFoundError:
            given = {}
    return [q for lang in LANGUAGES for q in given.get(lang, [])]
