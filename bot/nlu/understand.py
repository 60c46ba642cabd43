"""Understanding a message as *a need, on a platform, maybe on a device, in a language*.

The matcher (:mod:`bot.nlu.matcher`) ranks topics from their example questions;
this layer adds what the examples cannot know:

- which platform or product the person means, from the registry
  (``knowledge/platforms.yaml``), including the many the knowledge base has no
  topic for yet;
- which need they have, from the need vocabulary (``knowledge/needs.yaml``), in
  any of the seven languages, so that a German or Japanese question finds the
  topic without German or Japanese examples;
- the conversation so far: "and instagram?" keeps the need and changes the
  platform, "and deleting my history?" keeps the platform, "2" picks the second
  choice offered.

It then answers only a topic of the platform meant, or says honestly that there
is none yet (``not_covered``), never another platform's steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bot.kb.loader import KnowledgeBase, default_dir
from bot.kb.schema import Topic
from bot.nlu.matcher import SURFACE_WORDS, Match, Matcher
from bot.nlu.normalize import STOPWORDS, canonical, clean
from bot.nlu.registry import Registry, fold, load_registry

BOT = "bot"
PRIMARY_PLATFORM = "x"
MAX_CHOICES = 3
_INFORMATIONAL = frozenset({"policy_changes", "claims_check"})
# (need, need whose words name its object): "train on my chats" names chats, a
# history word, yet asks about training; said more strongly, the first wins.
_OBJECT_OF = (("ai_training", "ai_chat_history"),)
# A matcher this sure needs no second look without the platform's names.
SURE_ALONE = 0.45
# A follow-up ("and instagram?", "et pour Grok ?") is short: this many words at most.
FOLLOW_UP_MAX_WORDS = 8

# Until every topic names its need and products in the knowledge base (KB_FORMAT.md,
# round 2), today's topics get them here; a topic's own fields win.
LEGACY_TOPICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "x.grok_training": ("ai_training", ("x", "grok")),
    "x.third_party_sharing": ("third_party_sharing", ("x",)),
    "x.grok_history": ("ai_chat_history", ("grok",)),
    "x.policy_update": ("policy_changes", ("x",)),
    "x.protect_posts": ("private_account", ("x",)),
    "x.delete_account": ("delete_account", ("x",)),
    "x.download_archive": ("download_data", ("x",)),
    "x.ad_personalization": ("ad_personalization", ("x",)),
    "x.grok_app_improve_model": ("ai_training", ("grok_app",)),
    "bluesky.ai_training": ("ai_training", ("bluesky",)),
    "bot.help": ("bot_help", ("bot",)),
    "bot.privacy": ("bot_privacy", ("bot",)),
    "google.gemini_activity": ("ai_chat_history", ("gemini",)),
    "linkedin.ai_training": ("ai_training", ("linkedin",)),
    "meta.ai_training": ("ai_training", ("facebook", "instagram", "threads", "meta_ai")),
    "meta.whatsapp_ai": ("ai_features", ("whatsapp",)),
    "meta.ai_chats_ads": ("ad_personalization", ("meta_ai",)),
    "openai.chatgpt_training": ("ai_training", ("openai",)),
}

_GREETINGS = frozenset(
    """hi hello hey heya hiya yo hallo hola ola oi salut bonjour bonsoir coucou ciao buongiorno
    buonasera servus moin gruss good morning evening afternoon day there thanks thank thx ty
    tysm merci gracias obrigado obrigada valeu danke dankeschon grazie mille beaucoup great
    awesome cool perfect parfait super genial top nice ok okay okk kk muchas muito vielen
    tante bye goodbye ciao tchau adios bis bientot a plus later cheers much you so lot bot
    privacybot friend ami amigo amiga buenos buenas dias tardes noches bom boa dia tarde
    noite guten tag abend morgen sera appreciate it that s very helpful helped lovely brilliant
    doing today going va estas tudo bem geht stai sto how are you all right alright
    excellent wonderful thankyou thanx merci bien tres vraiment muchisimas muitissimo
    molte molto grazie cordialement worked works marche fonctionne funciono funciona funcionou
    funktioniert klappt geklappt funziona perfetto perfeito perfecto mrc mci thks tks
    now again ora agora jetzt ahora maintenant""".split()
)
# Laughter ("kkkk", "jajaja", "www", "mdr"): a friendly line, never a question.
_LAUGH = re.compile(
    r"^(?:w{3,}|k{3,}|(?:rs){2,}|(?:ja){2,}j?|(?:ha){2,}h?|(?:ah){2,}a?|lol|mdr|ptdr)$"
)
# Function words of the five languages beyond English and French (whose stop words
# the matcher already has): "und auf dem iPhone?" is a follow-up of three such words.
_FUNCTION_WORDS = frozenset(
    """y e o u und oder auf dem den der die das im am beim bei mit fur fuer ueber uber zum zur
    el la los las lo del al en con para por pero que como y tambien sobre mi mis tu
    o os as do da dos das no na nos nas em com pra para por mas que como meu minha tambem
    il lo gli le del della dei delle nel nella sul sulla con per ma che come mio mia anche
    di da su ich du er sie es wir ihr mein meine meinen mir mich was wie wo""".split()
)
_GREETINGS_JA = re.compile(
    r"ありがと|こんにちは|こんばんは|おはよう|どうも|よろしく|サンキュー|助かり"
)
_THANKS = re.compile(
    r"(?<![a-z])(?:thank|thanks|thx|ty|tysm|cheers|merci|gracias|obrigad[oa]|valeu|danke"
    r"|grazie|appreciate)(?![a-z])|ありがと|サンキュー|助かり"
)
_CONFUSED = re.compile(
    r"(?<![a-z])(?:(?:i\s)?(?:don\s?t|do not|dont|didn\s?t|did not)\s(?:get|understand|follow)"
    r"|what do you mean|too long|too complicated|simpler|in short|tl\s?dr|huh"
    r"|(?:je\s)?(?:ne\s)?(?:comprends|pige|capte)\s(?:pas|rien)|j\s?ai\spas\scompris"
    r"|pas\scompris|plus\ssimple|no\s(?:entiendo|entendi|lo\sentiendo)|mas\ssimple"
    r"|nao\s(?:entendi|entendo)|n\sentendi|mais\ssimples"
    r"|(?:verstehe?|versteh)\s(?:ich\s)?nicht|nicht\sverstanden|einfacher"
    r"|non\s(?:capisco|ho\scapito)|piu\ssemplice)(?![a-z])"
    r"|わからな|分からな|わかりませ|分かりませ|意味が"
)
# How a follow-up starts ("and ...?", "et ...", "what about ..."): without one, a
# question the matcher already understands is a new question, not a follow-up.
_FOLLOW_CUE = re.compile(
    r"^ (?:and|et|y|e|und|also|too|then|so|ok|okay|what about|how about|same|puis|alors|aussi"
    r"|ou|o|oder|auch|anche|tambien|tambem|ainda|et pour|y para|e per|e para|und bei)(?![a-z])"
)
_NUMBER = re.compile(r"^\s*(?:n(?:o|um(?:ber)?)?\.?\s*|#)?([1-9])\s*[.)]?\s*$", re.IGNORECASE)
_ORDINALS: dict[str, int] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "premier": 1,
    "premiere": 1,
    "deuxieme": 2,
    "second e": 2,
    "troisieme": 3,
    "primero": 1,
    "primera": 1,
    "segundo": 2,
    "segunda": 2,
    "tercero": 3,
    "tercera": 3,
    "terceiro": 3,
    "terceira": 3,
    "erste": 1,
    "erstes": 1,
    "zweite": 2,
    "zweites": 2,
    "dritte": 3,
    "drittes": 3,
    "primo": 1,
    "prima": 1,
    "secondo": 2,
    "terzo": 3,
    "terza": 3,
    "two": 2,
    "three": 3,
    "deux": 2,
    "trois": 3,
    "dos": 2,
    "tres": 3,
    "dois": 2,
    "zwei": 2,
    "drei": 3,
    "due": 2,
    "tre": 3,
}
_JA_NUMBERS = {"一": 1, "二": 2, "三": 3, "１": 1, "２": 2, "３": 3}
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


_LINK = re.compile(r"(?:https?://|www\.)([^\s?#]{1,300})", re.IGNORECASE)


def _link_words(text: str) -> str:
    """A pasted link's address, spelled out as words.

    "x.com/settings/grok_settings" says the platform and the setting; the link
    itself is dropped when the message is cleaned.
    """
    if "http" not in text and "www." not in text:
        return ""
    words = []
    for m in _LINK.finditer(text[:4000]):
        host, _, path = m.group(1).partition("/")
        words.append(host.removeprefix("www."))
        words.append(re.sub(r"[/_\-.=&]+", " ", path))
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class Context:
    """What the conversation so far tells about the next message (from the person's state)."""

    platform: str | None = None
    need: str | None = None
    surface: str | None = None
    last_topic: str | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Understanding:
    """What a message means, and what kind of reply it calls for.

    Attributes:
        kind: ``answer``, ``clarify``, ``not_covered``, ``fallback``,
            ``smalltalk`` or ``empty``.
        topic_id: The topic to answer (``answer``), else None.
        choices: Topic ids to offer (``clarify``, and what exists for
            ``not_covered``).
        platform: The platform or product understood (registry id), or None.
        need: The need understood (need id), or None.
        surface: ``web``/``ios``/``android``/``app`` or None.
        language: The language the person wrote in (one of seven).
        confidence: 0..1.
        match: The matcher's view, for logs and alternatives.
        follow_up: True when the conversation filled in what the message left out.
        short: True when the person did not understand the last answer: give
            its short form again.
    """

    kind: str
    topic_id: str | None
    language: str
    match: Match
    choices: tuple[str, ...] = ()
    platform: str | None = None
    need: str | None = None
    surface: str | None = None
    confidence: float = 0.0
    follow_up: bool = False
    short: bool = False
    also: tuple[str, ...] = field(default=())
    thanks: bool = False


def _result(
    language: str,
    match: Match,
    surface: str | None,
    kind: str,
    topic: str | None = None,
    **kw: Any,
) -> Understanding:
    return Understanding(
        kind=kind, topic_id=topic, language=language, match=match, surface=surface, **kw
    )


class Engine:
    """The matcher plus the registry, built once per knowledge base.

    Args:
        kb: The validated knowledge base.
        registry: Platforms and needs; read from the knowledge directory when None.
        matcher: A matcher already built for ``kb`` (built here when None).
    """

    def __init__(
        self, kb: KnowledgeBase, registry: Registry | None = None, matcher: Matcher | None = None
    ) -> None:
        self.kb = kb
        directory = getattr(kb, "directory", None) or default_dir()
        self.registry = registry or load_registry(Path(directory))
        self.matcher = matcher or Matcher(kb)
        self.need_of: dict[str, str | None] = {}
        self.products_of: dict[str, tuple[str, ...]] = {}
        for topic_id, topic in kb.topics.items():
            need, products = self._topic_fields(topic)
            self.need_of[topic_id] = need
            self.products_of[topic_id] = products
        self._order = list(kb.topics)
        # Platforms a topic's own English title and summary name ("Copilot"),
        # found when first needed.
        self._mentioned: dict[str, frozenset[str]] = {}
        self._for_cache: dict[tuple[str, ...], list[str]] = {}
        self._by_need: dict[str, list[str]] = {}
        for topic_id in self._order:
            need = self.need_of[topic_id]
            if need is not None:
                self._by_need.setdefault(need, []).append(topic_id)
        for found in self._by_need.values():
            found.sort(key=lambda t: kb.topics[t].platform != PRIMARY_PLATFORM)
        # Words that only name platforms or surfaces: what is left is the content.
        self._name_words: set[str] = set()
        for entry in self.registry.platforms.values():
            for names in entry.names.values():
                for name in names:
                    self._name_words.update(clean(name).split())
        self.matcher.language.ignore_names(self._name_words)

    @staticmethod
    def _topic_fields(topic: Topic) -> tuple[str | None, tuple[str, ...]]:
        legacy = LEGACY_TOPICS.get(topic.id)
        need = getattr(topic, "need", None) or (legacy[0] if legacy else None)
        products = getattr(topic, "products", None) or (legacy[1] if legacy else None)
        return need, tuple(products or (topic.platform,))

    # -- pieces -------------------------------------------------------------

    def applies(self, named: str, topic_id: str) -> bool:
        """Whether a topic answers a question about ``named``.

        A topic of a product answers a question naming its company or platform
        ("meta" covers Instagram's setting). A topic of a platform answers a
        question naming one of its products (X's settings for "grok"), but a
        company-wide topic answers for a product only when it names that product
        (Google's activity setting is not YouTube's history; Microsoft's Copilot
        topics are Copilot's). Never a sibling's.
        """
        chain = self.registry.ancestors(named)
        own = self.kb.topics[topic_id].platform
        for product in self.products_of[topic_id]:
            if named in self.registry.ancestors(product):
                if (
                    named != product
                    and named != own
                    and self.registry.kind(named) == "company"
                    and self.registry.kind(product) == "platform"
                ):
                    # A company's name is not one of its platforms: deleting a
                    # Microsoft account is not deleting a LinkedIn one.
                    continue
                return True
            if product in chain and (
                self.registry.kind(product) == "platform"
                or any(p in self._names_in(topic_id) for p in chain[: chain.index(product)])
            ):
                return True
        return False

    def _names_in(self, topic_id: str) -> frozenset[str]:
        found = self._mentioned.get(topic_id)
        if found is None:
            en = self.kb.topics[topic_id].en
            text = f"{en.title}. {en.summary}"
            found = self._mentioned[topic_id] = frozenset(
                m.platform for m in self.registry.mentions(text)
            )
        return found

    def topics_for(self, platforms: list[str]) -> list[str]:
        """Topics that apply to any of the platforms, in knowledge-base order."""
        key = tuple(platforms)
        found = self._for_cache.get(key)
        if found is None:
            found = [t for t in self._order if any(self.applies(p, t) for p in platforms)]
            if len(self._for_cache) < 4096:  # platforms people name are a small set
                self._for_cache[key] = found
        return list(found)

    def topics_with_need(self, need: str) -> list[str]:
        """Topics of a need, the primary platform's first."""
        return list(self._by_need.get(need, ()))

    def has_language(self, topic_id: str, language: str) -> bool:
        """Whether a topic is written in a language."""
        return getattr(self.kb.topics[topic_id], language, None) is not None

    def _best_need(self, scores: dict[str, float], preferred: str | None) -> str | None:
        """The need the trigger words say most, or the matcher's when they say it too."""
        if not scores:
            return None
        top = max(scores.values())
        for wider, narrower in _OBJECT_OF:
            if preferred == narrower and scores.get(wider, 0.0) > scores.get(narrower, 0.0):
                # "claude entrena con mis chats": the chats are what it trains on.
                preferred = wider
        if preferred is not None and scores.get(preferred, 0.0) >= 0.5 * top:
            # Both views agree it is among the needs expressed: the matcher, trained
            # on whole example questions, weighs the words better than counting.
            return preferred
        if len(scores) > 1:
            # "can you help me? I want Grok to stop learning from my posts": the
            # question is the need, the politeness is not a question about the bot.
            scores = {n: s * (0.5 if n == "bot_help" else 1.0) for n, s in scores.items()}
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
            tied = {n for n, s in ranked if s == ranked[0][1]}
            for wider, narrower in _OBJECT_OF:
                if tied == {wider, narrower}:
                    return wider
            return None
        return ranked[0][0]

    def _content_words(self, cleaned: str) -> list[str]:
        return [
            t
            for t in cleaned.split()
            if t not in STOPWORDS
            and t not in SURFACE_WORDS
            and t not in self._name_words
            and canonical(t) not in self._name_words
            and t not in _GREETINGS
            and t not in _FUNCTION_WORDS
            and not _LAUGH.match(t)
        ]

    def _in_scope_without_names(self, masked: str) -> bool:
        """Whether the message is about privacy once the platform names are taken out.

        With a platform named and no need word, the matcher alone decides; but a
        platform's name is a strong word for that platform's only topic ("is
        discord safe for kids" is not Discord's AI setting). Its topic counts
        only if the rest of the message is still close to some topic.
        """
        return bool(masked.strip()) and self.matcher.understand(masked).topic_id is not None

    def _also_said(self, folded: str, need: str | None) -> frozenset[str]:
        """Other needs the message says outside the words of the need chosen.

        "historique de position" says location history, not also chat history.
        """
        if need is None:
            return frozenset()
        for start, text in self.registry.trigger_spans(need, folded):
            folded = folded[:start] + " " * len(text) + folded[start + len(text) :]
        return frozenset(self.registry.need_scores(folded)) - {need}

    def _evidence_for(self, topic_id: str, need: str, ctx: Context, folded: str) -> bool:
        """Whether a message naming no platform of the registry may get this topic.

        The bot's own topics need none; another topic needs its platform's id in
        the message (a platform the registry does not list yet) or the
        conversation's platform to be its own.
        """
        platform = self.kb.topics[topic_id].platform
        if need.startswith("bot_") or platform == BOT:
            return True
        if re.search(rf"(?<![a-z0-9]){re.escape(platform)}(?![a-z0-9])", folded):
            return True
        return ctx.platform is not None and any(
            self.registry.related(ctx.platform, q) for q in self.products_of[topic_id]
        )

    def _pick_focus(
        self, named: list[str], need: str | None, matched: str | None = None
    ) -> list[str]:
        """Which of several named platforms the question is about, with its relatives."""
        counts: dict[str, int] = {}
        last: dict[str, int] = {}
        for i, p in enumerate(named):
            counts[p] = counts.get(p, 0) + 1
            last[p] = i
        pool = list(counts)
        if need is not None and len(pool) > 1:
            covered = [
                p for p in pool if any(self.need_of[t] == need for t in self.topics_for([p]))
            ]
            if covered:
                pool = covered
        if matched is not None:
            # Several platforms named as often: the one the matcher's topic is about.
            best = max(counts[p] for p in pool)
            tied = [p for p in pool if counts[p] == best]
            owners = [
                p
                for p in tied
                if any(self.registry.related(p, q) for q in self.products_of[matched])
            ]
            if len(tied) > 1 and len(owners) == 1:
                pool = owners
        # Then the most named; on a tie the first named ("moved to bluesky to escape X").
        chosen = min(pool, key=lambda p: (-counts[p], named.index(p)))
        return [chosen] + [p for p in counts if p != chosen and self.registry.related(chosen, p)]

    def _pick_number(self, text: str, folded: str, choices: tuple[str, ...]) -> str | None:
        m = _NUMBER.match(text)
        index: int | None = int(m.group(1)) if m else None
        if index is None:
            words = folded.split()
            if 0 < len(words) <= 3:
                for w in words:
                    if w in _ORDINALS:
                        index = _ORDINALS[w]
                    elif w in _JA_NUMBERS or (w and w[0] in _JA_NUMBERS and len(w) <= 3):
                        index = _JA_NUMBERS[w[0]]
        if index is not None and 1 <= index <= len(choices):
            return choices[index - 1]
        return None

    # -- the decision -------------------------------------------------------

    def understand(
        self,
        text: str,
        *,
        language_hint: str | None = None,
        declared: bool = False,
        surface_hint: str | None = None,
        context: Context | None = None,
    ) -> Understanding:
        """Understand one message of a conversation.

        Args:
            text: What the person wrote.
            language_hint: A language code from the platform or the person's state.
            declared: True when the author declared the language (Bluesky ``langs``).
            surface_hint: A surface the channel knows of.
            context: The conversation so far, or None.

        Returns:
            The :class:`Understanding`.
        """
        ctx = context or Context()
        link_words = _link_words(text)
        match = self.matcher.understand(
            text,
            language_hint=language_hint,
            surface_hint=surface_hint,
            declared=declared,
            extra=link_words,
        )
        language = match.language
        surface = match.surface
        folded = fold(f"{text} {link_words}" if link_words else text)
        cleaned = clean(f"{text} {link_words}" if link_words else text)

        result = partial(_result, language, match, surface)

        if not cleaned and not _CJK.search(text):
            return result("empty")
        if ctx.choices:
            picked = self._pick_number(text, folded, ctx.choices)
            if picked is not None:
                return result(
                    "answer",
                    picked,
                    platform=ctx.platform,
                    need=self.need_of.get(picked),
                    confidence=1.0,
                    follow_up=True,
                )
        mentions = self.registry.mentions(text, folded)
        named = [m.platform for m in mentions if m.platform != BOT]
        masked = folded
        for mention in mentions:
            masked = masked.replace(mention.text, " ")
        scores = self.registry.need_scores(folded)
        preferred = (
            self.need_of.get(match.topic_id)
            if match.topic_id is not None and not match.ambiguous
            else None
        )
        need = self._best_need(scores, preferred)
        need_strength = scores.get(need, 0.0) if need else 0.0
        content = self._content_words(cleaned)
        short = len(cleaned.split()) <= FOLLOW_UP_MAX_WORDS and not _CJK.search(text)
        short = short or (len(text) <= 24 and bool(_CJK.search(text)))

        if ctx.choices and short and (named or need):
            # "the whatsapp one", "l'entraînement": words that pick one of the choices offered.
            fitting = [
                c
                for c in ctx.choices
                if c in self.need_of
                and (need is None or self.need_of[c] == need)
                and (
                    not named
                    or any(self.registry.related(p, q) for p in named for q in self.products_of[c])
                )
            ]
            if len(fitting) == 1:
                return result(
                    "answer",
                    fitting[0],
                    platform=ctx.platform,
                    need=self.need_of[fitting[0]],
                    confidence=1.0,
                    follow_up=True,
                )
        if ctx.last_topic and _CONFUSED.search(folded) and not named and need is None:
            return result(
                "answer",
                ctx.last_topic,
                platform=ctx.platform,
                need=ctx.need,
                confidence=1.0,
                follow_up=True,
                short=True,
            )
        if not named and need is None and not content:
            greeted = any(w in _GREETINGS or _LAUGH.match(w) for w in cleaned.split()) or bool(
                _GREETINGS_JA.search(text)
            )
            if greeted:
                return result("smalltalk", thanks=bool(_THANKS.search(folded)))
        if (
            need in ("bot_help", "bot_privacy")
            and not named
            and (match.topic_id is not None or need_strength >= 2 or language not in ("en", "fr"))
        ):
            bot_topic = next(iter(self.topics_with_need(need)), None)
            if match.topic_id and self.need_of.get(match.topic_id) in ("bot_help", "bot_privacy"):
                bot_topic = match.topic_id
            if bot_topic:
                return result("answer", bot_topic, need=need, confidence=max(match.confidence, 0.5))

        follow_up = False
        if (
            not named
            and ctx.platform
            and short
            and need is not None
            and not need.startswith("bot_")
            and (
                _FOLLOW_CUE.match(folded)
                or len(cleaned.split()) <= 3
                or match.topic_id is None
                or match.ambiguous
            )
        ):
            # "and deleting my history?" / "training" after "grok?": same platform.
            named, follow_up = [ctx.platform], True
        if named and need is None and ctx.need and short and len(content) <= 2:
            # "and instagram?" / "same for gemini": same need, new platform.
            need, follow_up = ctx.need, True

        if named:
            return self._for_platform(
                result, named, need, content, follow_up, masked, self._also_said(folded, need)
            )
        return self._without_platform(result, need, ctx, content, short, need_strength, folded)

    def _for_platform(
        self,
        result: partial[Understanding],
        named: list[str],
        need: str | None,
        content: list[str],
        follow_up: bool,
        masked: str = "",
        said: frozenset[str] = frozenset(),
    ) -> Understanding:
        match: Match = result.args[1]
        matched = match.topic_id if match.topic_id and not match.ambiguous else None
        focus = self._pick_focus(named, need, matched)
        platform = focus[0]
        allowed = self.topics_for(focus)
        ranked_ids = [t for t, _ in match.ranked]
        in_scope = match.topic_id is not None
        if (
            need is None
            and in_scope
            and not match.ambiguous
            and match.topic_id in allowed
            and (match.confidence >= SURE_ALONE or self._in_scope_without_names(masked))
        ):
            need = self.need_of.get(match.topic_id)
        if need is None:
            if not content:
                if not allowed:
                    return result("not_covered", platform=platform)
                # Settings first; what changed or what an article claims after.
                offered = sorted(allowed, key=lambda t: self.need_of[t] in _INFORMATIONAL)
                return result("clarify", choices=tuple(offered[:MAX_CHOICES]), platform=platform)
            return result("fallback", platform=platform)
        candidates = [t for t in allowed if self.need_of[t] == need]
        exact = bool(candidates)
        if not candidates:
            # On an AI assistant one setting both keeps chats and trains on them;
            # and a second need the message also says ("training on my chats")
            # is still the person's own question.
            near = set(self.registry.needs[need].near) if need in self.registry.needs else set()
            near |= said - {need}
            if follow_up:
                # A need carried over from the last answer ("et chatgpt ?" after
                # Gemini's activity setting) is looser than one asked in words.
                near |= {n.id for n in self.registry.needs.values() if need in n.near}
            candidates = [
                t
                for t in allowed
                if self.need_of[t] in near
                and any(self.registry.kind(q) == "assistant" for q in self.products_of[t])
            ]
        if candidates:
            # Several topics fit: the one made for the platform named (its own
            # product list, its own file), then the matcher's preference (not on a
            # follow-up, whose words say nothing of the topic), then the narrowest.
            candidates.sort(
                key=lambda t: (
                    platform not in self.products_of[t],
                    self.kb.topics[t].platform != platform,
                    ranked_ids.index(t) if t in ranked_ids and not follow_up else 99,
                    len(self.products_of[t]),
                )
            )
            return result(
                "answer",
                candidates[0],
                platform=platform,
                # A near need answered keeps the need asked, for "and grok?" next.
                need=self.need_of[candidates[0]] if exact else need,
                confidence=max(match.confidence, 0.5),
                follow_up=follow_up,
            )
        if need in ("bot_help", "bot_privacy"):
            topic = next(iter(self.topics_with_need(need)), None)
            if topic:
                return result("answer", topic, need=need, confidence=0.5)
        elsewhere = [t for t in self.topics_with_need(need) if t not in allowed]
        return result(
            "not_covered",
            platform=platform,
            need=need,
            choices=tuple(allowed[:MAX_CHOICES]),
            also=tuple(elsewhere[:MAX_CHOICES]),
            follow_up=follow_up,
        )

    def _without_platform(
        self,
        result: partial[Understanding],
        need: str | None,
        ctx: Context,
        content: list[str],
        short: bool,
        need_strength: float = 0.0,
        folded: str = "",
    ) -> Understanding:
        match: Match = result.args[1]
        language: str = result.args[0]
        surface: str | None = result.args[2]
        topic = match.topic_id
        if (
            need is None
            and ctx.last_topic
            and surface is not None
            and short
            and len(content) <= 2
            and ctx.last_topic in self.kb.topics
        ):
            # "and on Android?": the same topic on another surface.
            return result(
                "answer",
                ctx.last_topic,
                platform=ctx.platform,
                need=ctx.need,
                confidence=0.5,
                follow_up=True,
            )
        if topic is not None and not match.ambiguous:
            topic_need = self.need_of.get(topic)
            near = self.registry.needs[need].near if need in self.registry.needs else []
            if need is None or topic_need == need or topic_need in near:
                return result(
                    "answer",
                    topic,
                    platform=self.products_of[topic][0],
                    need=topic_need,
                    confidence=match.confidence,
                )
        if need is not None and ctx.platform and not need.startswith("bot_"):
            # "ok but first I want to download my archive": the conversation's platform.
            kept = [t for t in self.topics_for([ctx.platform]) if self.need_of[t] == need]
            if kept:
                return result(
                    "answer",
                    kept[0],
                    platform=ctx.platform,
                    need=need,
                    confidence=max(match.confidence, 0.5),
                    follow_up=True,
                )
        # In English and French the matcher knows the examples: when it saw nothing,
        # one weak need word ("vie privée" in a poem request) is not a question.
        weak = (
            language in ("en", "fr")
            and need_strength < 2
            and (topic is None or self.need_of.get(topic) != need)
        )
        if need is not None and not weak:
            options = self.topics_with_need(need)
            if len(options) == 1:
                only = options[0]
                if not self._evidence_for(only, need, ctx, folded):
                    # "does ifood sell my data?": the only topic of the need is one
                    # platform's; with nothing pointing at it, ask rather than
                    # answer with that platform's steps.
                    return result("clarify", choices=(only,), need=need)
                return result(
                    "answer",
                    only,
                    platform=self.products_of[only][0],
                    need=need,
                    confidence=max(match.confidence, 0.5),
                )
            if topic is not None and topic in options and not match.ambiguous:
                return result("answer", topic, platform=self.products_of[topic][0], need=need)
            if options:
                ranked_ids = [t for t, _ in match.ranked]
                options.sort(key=lambda t: ranked_ids.index(t) if t in ranked_ids else 99)
                return result("clarify", choices=tuple(options[:MAX_CHOICES]), need=need)
        if topic is not None and match.ambiguous:
            candidates = [t for t, s in match.ranked[:MAX_CHOICES] if s >= self.matcher.threshold]
            return result("clarify", choices=tuple(candidates))
        if topic is not None and need is not None and not self.topics_with_need(need):
            # No topic has the need the words suggest, no platform is named: the
            # matcher's topic, close to the examples, is the best there is.
            return result(
                "answer",
                topic,
                platform=self.products_of[topic][0],
                need=self.need_of.get(topic),
                confidence=match.confidence,
            )
        return result("fallback", need=need)
