"""The sourcing policy ``privacybot kb check`` enforces on top of the schema.

The loader refuses what the bot cannot answer with (a missing field, an unknown
need); this module refuses what an editor must not ship: a topic without an
official or regulator source (unless a caveat says none exists and two
independent press sources back it), a source on a blocked content-farm, copy or
promo domain, a date hidden in a title, a translation with gaps, a local path in
a file. It is kept apart from loading so that a running bot keeps answering from
an older file while editors fix what ``kb check`` reports.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.kb.loader import STALE_AFTER_DAYS, KnowledgeBase, Problem, reserved_file
from bot.kb.schema import SOURCE_KINDS, Source, Topic

BLOCKED_FILE = "blocked_domains.yaml"
PLATFORMS_FILE = "platforms.yaml"
PRIMARY_KINDS = ("official", "regulator")
MIN_PRESS_WITHOUT_PRIMARY = 2
# The English caveat that says no official or regulator page exists or could be
# read: "X has published no official page about this", "No TikTok help or policy
# page could be read", "No Reddit help page on this could be reached".
_NO_PRIMARY = re.compile(
    r"\bno\s+(?:official|primary|regulator)\b"
    r"|\bno\b[\w\s'-]{0,40}?\b(?:page|source|help|policy)\b[^.;]{0,60}?"
    r"\b(?:could|can|was|were|is|are|exists?|found)\b",
    re.IGNORECASE,
)
_DATE_IN_TITLE = re.compile(r"\b(page )?dated\b|\(\s*(19|20)\d\d\s*\)$", re.IGNORECASE)
_LOCAL_PATH = re.compile(r"(?<![\w.])(/work/|/home/|/Users/|/tmp/|file://|[A-Za-z]:\\)")


@dataclass(frozen=True, slots=True)
class Blocked:
    """A domain whose pages are never a source, and why."""

    domain: str
    reason: str

    def matches(self, host: str) -> bool:
        """Whether ``host`` is this domain or one of its subdomains."""
        host = host.lower().rstrip(".")
        return host == self.domain or host.endswith("." + self.domain)


def load_blocked(directory: Path) -> tuple[list[Blocked], list[Problem]]:
    """Read ``blocked_domains.yaml``: ``domains: [{domain: ..., reason: ...}]``.

    Args:
        directory: The knowledge folder (its own list, else the bundled one).

    Returns:
        The blocked domains and the problems found reading them.
    """
    path = reserved_file(directory, BLOCKED_FILE)
    name = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [], [Problem(name, "-", "domains", f"cannot read the blocklist: {exc}")]
    entries = data.get("domains") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return [], [
            Problem(name, "-", "domains", "expected 'domains: [{domain: ..., reason: ...}]'")
        ]
    blocked: list[Blocked] = []
    problems: list[Problem] = []
    for index, entry in enumerate(entries):
        domain = entry.get("domain") if isinstance(entry, dict) else None
        reason = entry.get("reason") if isinstance(entry, dict) else None
        if not isinstance(domain, str) or not domain or not isinstance(reason, str):
            problems.append(Problem(name, "-", f"domains[{index}]", "needs 'domain' and 'reason'"))
            continue
        blocked.append(Blocked(domain.lower().strip(), reason))
    return blocked, problems


def load_platform_ids(directory: Path) -> set[str] | None:
    """The ids of the folder's own platform registry, or None when it has none.

    Only the folder's own ``platforms.yaml`` counts: a test or editor's copy with
    made-up platforms is not checked against the bundled registry.

    Args:
        directory: The knowledge folder.

    Returns:
        The registry ids (``platforms: [{id: ...}, ...]``), or None.
    """
    path = directory / PLATFORMS_FILE
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # the engine's registry loader reports a broken registry
    entries = data.get("platforms") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    return {e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)}


def registry_problems(kb: KnowledgeBase, platform_ids: set[str]) -> list[Problem]:
    """Topics whose platform or products are not in the platform registry."""
    problems: list[Problem] = []
    for topic_id, topic in kb.topics.items():
        file = kb.files.get(topic_id, "-")
        if topic.platform not in platform_ids:
            problems.append(
                Problem(
                    file, topic_id, "id", f"unknown platform {topic.platform!r} ({PLATFORMS_FILE})"
                )
            )
        for product in topic.products or []:
            if product not in platform_ids:
                problems.append(
                    Problem(
                        file,
                        topic_id,
                        "products",
                        f"unknown product {product!r} ({PLATFORMS_FILE})",
                    )
                )
    return problems


def _site(source: Source) -> str:
    """The site a source is on, for telling independent sources apart."""
    host = source.host.removeprefix("www.")
    return ".".join(host.split(".")[-2:])


def _primary_problems(file: str, topic: Topic) -> list[Problem]:
    if any(s.kind in PRIMARY_KINDS for s in topic.sources):
        return []
    press = [s for s in topic.sources if s.kind == "press"]
    sites = {_site(s) for s in press}
    publishers = {s.publisher.casefold() for s in press}
    independent = min(len(sites), len(publishers))
    said = any(_NO_PRIMARY.search(c) for c in topic.en.caveats)
    if said and independent >= MIN_PRESS_WITHOUT_PRIMARY:
        return []
    missing = []
    if not said:
        missing.append("an English caveat saying there is no official source")
    if independent < MIN_PRESS_WITHOUT_PRIMARY:
        missing.append(f"two press sources from different publishers (has {independent})")
    return [
        Problem(
            file,
            topic.id,
            "sources",
            "no official or regulator source: add one, or " + " and ".join(missing),
        )
    ]


def topic_problems(file: str, topic: Topic, blocked: list[Blocked]) -> list[Problem]:
    """Every sourcing-policy problem of one topic.

    Args:
        file: The file the topic comes from (for the report line).
        topic: The topic, already valid against the schema.
        blocked: The blocked domains.

    Returns:
        ``file: topic: field: problem`` findings; empty when the topic passes.
    """
    problems = _primary_problems(file, topic)
    seen: set[str] = set()
    for index, source in enumerate(topic.sources):
        where = f"sources[{index}]"
        hit = next((b for b in blocked if b.matches(source.host)), None)
        if hit is not None:
            problems.append(
                Problem(
                    file, topic.id, f"{where}.url", f"blocked domain {hit.domain} ({hit.reason})"
                )
            )
        if source.url in seen:
            problems.append(Problem(file, topic.id, f"{where}.url", "cited twice"))
        seen.add(source.url)
        if _DATE_IN_TITLE.search(source.title):
            problems.append(
                Problem(
                    file,
                    topic.id,
                    f"{where}.title",
                    "a date in the title: put the date the page shows in 'date'",
                )
            )
    if topic.url:
        host = urlsplit(topic.url).hostname or ""
        hit = next((b for b in blocked if b.matches(host)), None)
        if hit is not None:
            problems.append(Problem(file, topic.id, "url", f"blocked domain {hit.domain}"))
    for language in topic.languages:
        problems.extend(
            Problem(file, topic.id, f"{language}.{where}", what)
            for where, what in topic.gaps(language)
        )
    return problems


def file_problems(path: Path) -> list[Problem]:
    """Problems of a file's text: a local path where a public URL belongs."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []  # the loader has reported it already
    return [
        Problem(str(path), "-", f"line {number}", "names a local path; name sources by public URL")
        for number, line in enumerate(lines, start=1)
        if _LOCAL_PATH.search(line)
    ]


def check_policy(kb: KnowledgeBase, blocked: list[Blocked]) -> list[Problem]:
    """Run the sourcing policy over a loaded knowledge base.

    Args:
        kb: The knowledge base (its ``files`` say where each topic comes from).
        blocked: The blocked domains.

    Returns:
        Every problem, in file then topic order.
    """
    problems: list[Problem] = []
    for path in sorted(set(kb.files.values())):
        problems.extend(file_problems(Path(path)))
    for topic_id, topic in kb.topics.items():
        problems.extend(topic_problems(kb.files.get(topic_id, "-"), topic, blocked))
    platform_ids = load_platform_ids(kb.directory) if kb.directory else None
    if platform_ids is not None:
        problems.extend(registry_problems(kb, platform_ids))
    return problems


@dataclass(frozen=True, slots=True)
class TopicRow:
    """One line of the editors' table."""

    topic: str
    need: str
    kinds: dict[str, int]
    oldest_fact: dt.date | None
    verified: dt.date
    languages: tuple[str, ...]


def topic_row(topic: Topic) -> TopicRow:
    """Summarise a topic for the ``kb check`` table."""
    kinds = {kind: sum(1 for s in topic.sources if s.kind == kind) for kind in SOURCE_KINDS}
    dates = [d for fact in topic.en.facts for d in fact.dates]
    complete = tuple(lang for lang in topic.languages if topic.is_complete(lang))
    return TopicRow(
        topic.id, topic.need, kinds, min(dates, default=None), topic.last_verified, complete
    )


@dataclass(frozen=True, slots=True)
class Due:
    """Something an editor should re-check."""

    topic: str
    file: str
    reason: str
    since: dt.date


def due(kb: KnowledgeBase, today: dt.date, within_days: int = 0) -> list[Due]:
    """What is due for re-checking, oldest first.

    A topic is due :data:`STALE_AFTER_DAYS` after its ``last_verified`` day; a
    fact is due when its ``until`` day passed after the topic was last verified
    (it may now be told in the past tense, or no longer hold).

    Args:
        kb: The knowledge base.
        today: The day to measure against.
        within_days: Also list what falls due in the next so many days.

    Returns:
        The due items, oldest first.
    """
    horizon = today + dt.timedelta(days=within_days)
    items: list[Due] = []
    for topic_id, topic in kb.topics.items():
        file = kb.files.get(topic_id, "-")
        deadline = topic.last_verified + dt.timedelta(days=STALE_AFTER_DAYS)
        if deadline <= horizon:
            age = (today - topic.last_verified).days
            items.append(
                Due(
                    topic_id,
                    file,
                    f"last verified {topic.last_verified} ({age} days ago)",
                    deadline,
                )
            )
        for fact in topic.en.facts:
            if fact.until and topic.last_verified < fact.until <= horizon:
                items.append(
                    Due(
                        topic_id,
                        file,
                        f"fact 'until {fact.until}' passed: {fact.text[:60]}",
                        fact.until,
                    )
                )
    return sorted(items, key=lambda d: (d.since, d.topic))
