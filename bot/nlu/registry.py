"""The platform registry and the need vocabulary, read from ``knowledge/``.

``knowledge/platforms.yaml`` lists every platform, product and company people
name (with their spellings in seven languages) and how they belong together
(Instagram is Meta's, Grok on X is X's); ``knowledge/needs.yaml`` lists what
people want done about their data (stop AI training, delete an account...) and
the words that say it in each language. A question is understood as *a need on
a platform*: finding both is a scan of the message with one compiled pattern
each, linear in its length.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.kb.loader import reserved_file
from bot.kb.registry_io import read_list
from bot.nlu.normalize import MAX_CHARS, strip_invisible

PLATFORMS_FILE = "platforms.yaml"
NEEDS_FILE = "needs.yaml"
REGISTRY_FILES = (PLATFORMS_FILE, NEEDS_FILE)
LANGS = ("en", "fr", "es", "pt", "de", "it", "ja")
_ID = r"^[a-z][a-z0-9_]*$"
_MARKS = re.compile(r"[\u0300-\u036f]")
_NON_WORD = re.compile(r"[\W_]+")
_LATIN = re.compile(r"[a-z0-9]")
# "@privacybot.bsky.social" addresses the bot; it does not name Bluesky.
_MENTION = re.compile(r"(?<![\w.])@[\w.\-]{1,253}")


def fold(text: str) -> str:
    """Fold a text for name and trigger matching.

    Lower case, Latin accents dropped (Japanese voicing marks kept), width
    normalised (half-width katakana), invisible characters and @mentions
    removed (web addresses are kept: "x.com/settings" names X), and every
    run of punctuation or spaces made one space, padded with a space each side.
    """
    text = _MENTION.sub(" ", strip_invisible(text[:MAX_CHARS]))
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFD", text)))
    return " " + _NON_WORD.sub(" ", text).strip() + " "


_ANY_END = r"[^\s]*"
_ANY_WORD = r"[^\s]+"
_RIGHT = r"(?![a-z0-9])"


def _atoms(phrase: str) -> tuple[list[str], bool] | None:
    """One name or trigger as regex atoms on a folded text, and whether it is Latin.

    ``*`` ends a word with any ending: "borr* mi cuenta" matches "borro mi
    cuenta" and "borrar mi cuenta" (verbs are conjugated, and people write every
    form); a lone ``*`` is any one word ("delete my * account"). Latin words
    end where Latin letters end ("grokの学習" names Grok); Japanese has no spaces
    and matches anywhere.
    """
    words = phrase.split()
    atoms: list[str] = []
    for i, word in enumerate(words):
        if i:
            atoms.append(" ")
        if word == "*":
            atoms.append(_ANY_WORD)
            continue
        folded_word = fold(word.rstrip("*")).strip()
        atoms.extend(re.escape(ch) if ch != " " else " " for ch in folded_word)
        if word.endswith("*") and i < len(words) - 1:
            atoms.append(_ANY_END)
    folded = fold(" ".join(w.rstrip("*") for w in words if w != "*")).strip()
    if not folded:
        return None
    latin = bool(_LATIN.search(folded[0]) or _LATIN.search(folded[-1]))
    if latin and not words[-1].endswith("*"):
        atoms.append(_RIGHT)
    return atoms, latin


def _trie(sequences: Iterable[list[str]]) -> str:
    """One regex for many phrases, as a trie: each position costs one branch, not one per phrase.

    Python's ``re`` tries the alternatives of ``a|b|c`` one by one at every
    position; with hundreds of names and triggers that was most of a message's
    cost. Shared beginnings are merged, and a longer phrase is tried before a
    shorter one ending at the same place ("grok app" before "grok").
    """
    root: dict[str, dict] = {}
    for seq in sequences:
        node = root
        for atom in seq:
            node = node.setdefault(atom, {})
        node[""] = {}

    def render(node: dict[str, dict]) -> str:
        # A phrase ending here (the boundary atom) is tried after the longer ones.
        atoms = sorted((a for a in node if a), key=lambda a: a == _RIGHT)
        branches = [atom + render(node[atom]) for atom in atoms]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:  # a phrase ends here: the longer ones first, this one if they fail
            return (
                body + "?"
                if len(branches) == 1 and len(branches[0]) == 1
                else ("(?:" + body + ")?")
            )
        return body

    return render(root)


_WORD_START = re.compile(r"(?<![a-z0-9])[a-z0-9]")


class PhraseSet:
    """Many names or triggers, found in a folded text, compiled only when needed.

    Phrases are grouped by their first two letters; at each word start of a
    message only the groups of its first letters are tried, each a small trie
    regex compiled the first time a message needs it. Start-up then costs
    nothing, however many platforms and triggers the registry lists, and a
    message a few dictionary look-ups per word. Matches do not overlap; the
    longest phrase starting at a place wins ("grok app" over "grok").
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        self._groups: dict[str, list[list[str]]] = defaultdict(list)
        self._other: list[list[str]] = []
        for phrase in phrases:
            found = _atoms(phrase)
            if found is None:
                continue
            atoms, latin = found
            if not latin:
                self._other.append(atoms)
                continue
            literal = ""
            for atom in atoms:
                if atom in (_ANY_END, _ANY_WORD, _RIGHT) or len(literal) == 2:
                    break
                literal += atom if atom == " " else re.sub(r"\\(.)", r"\1", atom)
            self._groups[literal].append(atoms)
        self._compiled: dict[str, re.Pattern[str]] = {}
        self._other_pattern: re.Pattern[str] | None = None

    def __bool__(self) -> bool:
        return bool(self._groups or self._other)

    def _group(self, key: str) -> re.Pattern[str] | None:
        pattern = self._compiled.get(key)
        if pattern is None and key in self._groups:
            pattern = self._compiled[key] = re.compile(_trie(self._groups[key]))
        return pattern

    def finditer(self, folded: str) -> Iterator[tuple[int, str]]:
        """``(start, matched text)`` of every phrase found, in order."""
        end = 0
        for start_match in _WORD_START.finditer(folded):
            pos = start_match.start()
            if pos < end:
                continue
            best: str = ""
            for key in (folded[pos : pos + 2], folded[pos : pos + 1], ""):
                pattern = self._group(key)
                if pattern is not None:
                    m = pattern.match(folded, pos)
                    if m is not None and len(m.group(0)) > len(best):
                        best = m.group(0)
            if best:
                end = pos + len(best)
                yield pos, best
        if self._other and not folded.isascii():
            if self._other_pattern is None:
                self._other_pattern = re.compile(_trie(self._other))
            for m in self._other_pattern.finditer(folded):
                yield m.start(), m.group(0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Kind = Literal["platform", "product", "assistant", "company", "device", "bot"]


class PlatformEntry(_Strict):
    """One platform, product or company of ``platforms.yaml``."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    kind: Kind
    parent: str | None = None
    names: dict[str, list[str]] = Field(min_length=1)
    exact: list[str] = Field(default_factory=list)

    @field_validator("names")
    @classmethod
    def _languages(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = set(value) - {"all", *LANGS}
        if unknown:
            raise ValueError(f"unknown name languages {sorted(unknown)}; use all or {LANGS}")
        return value


class NeedEntry(_Strict):
    """One need of ``needs.yaml``."""

    id: str = Field(pattern=_ID)
    description: str = Field(min_length=1)
    near: list[str] = Field(default_factory=list)
    triggers: dict[str, list[str]] = Field(min_length=1)

    @field_validator("triggers")
    @classmethod
    def _languages(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = set(value) - set(LANGS)
        if unknown:
            raise ValueError(f"unknown trigger languages {sorted(unknown)}; use {LANGS}")
        return value


class RegistryError(ValueError):
    """The registry files are invalid; ``problems`` lists ``file: id: problem`` lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True, slots=True)
class Mention:
    """A platform named in a message, where it starts, and the words that named it."""

    platform: str
    start: int
    text: str


@dataclass(slots=True)
class Registry:
    """Platforms with their relations, and needs with their trigger patterns.

    Attributes:
        platforms: Entries by id, in file order.
        needs: Entries by id, in file order.
    """

    platforms: dict[str, PlatformEntry]
    needs: dict[str, NeedEntry]
    _names: PhraseSet | None = None
    _name_to_id: dict[str, str] = field(default_factory=dict)
    _exact: re.Pattern[str] | None = None
    _exact_to_id: dict[str, str] = field(default_factory=dict)
    _triggers: dict[str, PhraseSet] = field(default_factory=dict)
    _chains: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entry in self.platforms.values():
            for names in entry.names.values():
                for name in names:
                    key = fold(name).strip()
                    if key:
                        self._name_to_id.setdefault(key, entry.id)
            for name in entry.exact:
                self._exact_to_id[name] = entry.id
        self._names = PhraseSet(self._name_to_id)
        if self._exact_to_id:
            self._exact = re.compile(
                "|".join(
                    rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])"
                    for n in sorted(self._exact_to_id, key=len, reverse=True)
                )
            )
        for need in self.needs.values():
            phrases = PhraseSet(t for ts in need.triggers.values() for t in ts)
            if phrases:
                self._triggers[need.id] = phrases

    def ancestors(self, platform: str) -> tuple[str, ...]:
        """The platform itself, then its parent, grand-parent..."""
        known = self._chains.get(platform)
        if known is not None:
            return known
        chain: list[str] = []
        current: str | None = platform
        while current is not None and current not in chain:
            chain.append(current)
            entry = self.platforms.get(current)
            current = entry.parent if entry else None
        self._chains[platform] = tuple(chain)
        return self._chains[platform]

    def related(self, named: str, product: str) -> bool:
        """Whether a topic about ``product`` applies to a question naming ``named``.

        A parent's topic applies to its products and a product's topic to its
        parent ("meta" covers Instagram's setting), never to a sibling (a Gemini
        topic does not answer a YouTube question).
        """
        return named in self.ancestors(product) or product in self.ancestors(named)

    def kind(self, platform: str) -> str | None:
        """The kind of a platform (``assistant``, ``platform``...), or None if unknown."""
        entry = self.platforms.get(platform)
        return entry.kind if entry else None

    def name(self, platform: str) -> str:
        """The display name of a platform (its id when unknown)."""
        entry = self.platforms.get(platform)
        return entry.name if entry else platform

    def mentions(self, raw: str, folded: str | None = None) -> list[Mention]:
        """Every platform named in a message, in order of appearance."""
        folded = folded if folded is not None else fold(raw)
        found: list[Mention] = []
        if self._names is not None:
            for start, text in self._names.finditer(folded):
                found.append(Mention(self._name_to_id[text.strip()], start, text))
        if self._exact is not None:
            for m in self._exact.finditer(raw[:MAX_CHARS]):
                # Offsets differ between raw and folded text; order is approximate.
                found.append(Mention(self._exact_to_id[m.group(0)], m.start(), m.group(0)))
        found.sort(key=lambda mention: mention.start)
        return found

    def trigger_spans(self, need: str, folded: str) -> list[tuple[int, str]]:
        """Where a need's trigger words occur in a folded message: (start, text)."""
        phrases = self._triggers.get(need)
        return list(phrases.finditer(folded)) if phrases is not None else []

    def need_scores(self, folded: str) -> dict[str, float]:
        """How strongly each need is expressed: the words of its matched triggers."""
        scores: dict[str, float] = {}
        for need, pattern in self._triggers.items():
            total = 0.0
            for _, text in pattern.finditer(folded):
                words = text.split()
                if len(words) == 1 and not _LATIN.search(words[0][:1]):
                    total += max(1.0, len(words[0]) / 2.0)  # Japanese: by characters
                else:
                    total += len(words)
            if total:
                scores[need] = total
        return scores


def _read(path: Path, key: str) -> list[object]:
    try:
        return read_list(path, key)
    except ValueError as exc:
        raise RegistryError([f"{path.name}: -: {exc}"]) from exc


def _validate(path: Path, key: str, model: type[BaseModel]) -> tuple[list[BaseModel], list[str]]:
    entries: list[BaseModel] = []
    problems: list[str] = []
    for i, item in enumerate(_read(path, key)):
        where = item.get("id", f"{key}[{i}]") if isinstance(item, dict) else f"{key}[{i}]"
        try:
            entries.append(model.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "-"
                problems.append(f"{path.name}: {where}: {loc}: {err['msg']}")
    return entries, problems


def load_registry(directory: Path) -> Registry:
    """Read and check ``platforms.yaml`` and ``needs.yaml`` of a knowledge directory.

    Raises:
        RegistryError: With every problem found (duplicate ids, unknown parents
            or near needs, a name given to two platforms, parent cycles).
    """
    # A folder without its own registry files (a test or an editor's copy) uses the bundled ones.
    platforms, problems = _validate(
        reserved_file(directory, PLATFORMS_FILE), "platforms", PlatformEntry
    )
    needs, need_problems = _validate(reserved_file(directory, NEEDS_FILE), "needs", NeedEntry)
    problems += need_problems
    by_id: dict[str, PlatformEntry] = {}
    owner: dict[str, str] = {}
    for entry in platforms:
        assert isinstance(entry, PlatformEntry)
        if entry.id in by_id:
            problems.append(f"{PLATFORMS_FILE}: {entry.id}: id: duplicate id")
        by_id[entry.id] = entry
        for names in entry.names.values():
            for name in names:
                key = fold(name).strip()
                if owner.get(key, entry.id) != entry.id:
                    problems.append(
                        f"{PLATFORMS_FILE}: {entry.id}: names: {name!r} also names {owner[key]}"
                    )
                owner.setdefault(key, entry.id)
    for entry in by_id.values():
        if entry.parent is not None and entry.parent not in by_id:
            problems.append(f"{PLATFORMS_FILE}: {entry.id}: parent: unknown id {entry.parent!r}")
    need_ids: dict[str, NeedEntry] = {}
    for need in needs:
        assert isinstance(need, NeedEntry)
        if need.id in need_ids:
            problems.append(f"{NEEDS_FILE}: {need.id}: id: duplicate id")
        need_ids[need.id] = need
    for need in need_ids.values():
        for near in need.near:
            if near not in need_ids:
                problems.append(f"{NEEDS_FILE}: {need.id}: near: unknown need {near!r}")
    if problems:
        raise RegistryError(problems)
    registry = Registry(platforms=by_id, needs=need_ids)
    for pid in by_id:
        chain = registry.ancestors(pid)
        last = by_id[chain[-1]]
        if last.parent is not None:
            problems.append(f"{PLATFORMS_FILE}: {pid}: parent: cycle through {last.parent!r}")
    if problems:
        raise RegistryError(problems)
    return registry
