"""Loading and checking the YAML knowledge base.

Every problem is reported as ``file: topic: field: problem`` so that whoever
edits a knowledge file sees at once where to look; the command line turns a
:class:`KnowledgeError` into those lines and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.kb.files import KnowledgeReader
from bot.kb.schema import LANGUAGES, REQUIRED_LANGUAGES, KnowledgeFile, Topic
from bot.nlu.normalize import clean, phrases_pattern

STALE_AFTER_DAYS = 180
NEEDS_FILE = "needs.yaml"
# Files of the knowledge folder that are not platform files: the need vocabulary,
# the platform registry and the sourcing policy's blocklist.
RESERVED_FILES = frozenset({NEEDS_FILE, "platforms.yaml", "blocked_domains.yaml"})
# libyaml's safe loader when available: same safety, several times faster.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a knowledge file."""

    file: str
    topic: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.topic}: {self.field}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base is invalid; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(slots=True)
class KnowledgeBase:
    """All topics, indexed by id, with the platform display names.

    Attributes:
        topics: Topics by id, in file order.
        platforms: Display name by platform id (``x`` -> ``X (Twitter)``).
        version: A short hash of the files' contents, reported by /healthz.
        warnings: Non-fatal findings (topics not verified recently).
        directory: The folder the knowledge base was read from.
        files: The file each topic comes from, by topic id (for editors' reports).
        needs: The need vocabulary the topics were checked against.
    """

    topics: dict[str, Topic]
    platforms: dict[str, str]
    version: str
    warnings: list[Problem] = field(default_factory=list)
    directory: Path | None = None
    files: dict[str, str] = field(default_factory=dict)
    needs: tuple[str, ...] = ()

    def get(self, topic_id: str) -> Topic | None:
        """Return a topic by id, or None."""
        return self.topics.get(topic_id)


def default_dir() -> Path:
    """Where the knowledge base lives unless ``PRIVACYBOT_KNOWLEDGE_DIR`` says otherwise.

    An installed wheel (``pip install .``, ``pipx install .``) carries the knowledge
    base inside the package as ``bot/knowledge``; in a clone (an editable install,
    ``python -m bot``) it is the repository's ``knowledge/`` folder beside the
    ``bot`` package, which editors change.
    """
    env = os.environ.get("PRIVACYBOT_KNOWLEDGE_DIR")
    if env:
        return Path(env)
    return bundled_dir()


def bundled_dir() -> Path:
    """The knowledge base that ships with the code (in the wheel, or the clone's folder)."""
    package = Path(__file__).resolve().parents[1]
    shipped = package / "knowledge"
    if shipped.is_dir():
        return shipped
    return package.parent / "knowledge"


def reserved_file(directory: Path, name: str) -> Path:
    """A reserved file of ``directory``, or the bundled one when the folder lacks it.

    Test folders and small editors' copies then need only their platform files.
    """
    own = directory / name
    if own.exists():
        return own
    return bundled_dir() / name


def load_needs(directory: Path) -> tuple[list[str], list[Problem]]:
    """Read the need vocabulary: ``needs: [{id: ai_training, ...}, ...]``.

    Entries may carry any other keys (descriptions, labels); only ``id`` is used here.

    Args:
        directory: The knowledge folder (its ``needs.yaml``, else the bundled one).

    Returns:
        The need ids in file order and the problems found.
    """
    path = reserved_file(directory, NEEDS_FILE)
    name = str(path)
    try:
        data = yaml.load(KnowledgeReader().read(path).decode("utf-8"), Loader=_SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [], [Problem(name, "-", "needs", f"cannot read the need vocabulary: {exc}")]
    entries = data.get("needs") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return [], [Problem(name, "-", "needs", "expected 'needs: [{id: ...}, ...]'")]
    ids: list[str] = []
    problems: list[Problem] = []
    for index, entry in enumerate(entries):
        need = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(need, str) or not need:
            problems.append(Problem(name, "-", f"needs[{index}].id", "missing"))
        else:
            ids.append(need)
    return ids, problems


def _location(loc: Iterable[object], data: object) -> tuple[str, str]:
    """Turn a pydantic error location into (topic id, dotted field path)."""
    parts = list(loc)
    topic = "-"
    if len(parts) >= 2 and parts[0] == "topics" and isinstance(parts[1], int):
        index = parts[1]
        topics = data.get("topics") if isinstance(data, dict) else None
        if isinstance(topics, list) and index < len(topics) and isinstance(topics[index], dict):
            topic = str(topics[index].get("id") or f"topics[{index}]")
        else:
            topic = f"topics[{index}]"
        parts = parts[2:]
    path = ".".join(str(p) for p in parts) or "-"
    return topic, path


def _parse_file(name: str, raw: bytes) -> tuple[KnowledgeFile | None, list[Problem]]:
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_SafeLoader)
    except UnicodeDecodeError as exc:
        return None, [Problem(name, "-", "-", f"not UTF-8 text: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [Problem(name, "-", "-", f"invalid YAML{where}: {reason}")]
    if not isinstance(data, dict):
        return None, [
            Problem(name, "-", "-", "expected a mapping with 'platform', 'name', 'topics'")
        ]
    try:
        return KnowledgeFile.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            topic, field_path = _location(err["loc"], data)
            message = err["msg"]
            if err["type"] == "missing":
                message = "missing"
            problems.append(Problem(name, topic, field_path, message))
        return None, problems


def _cross_checks(
    files: list[tuple[str, KnowledgeFile]], today: dt.date, needs: list[str]
) -> tuple[list[Problem], list[Problem]]:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    seen_ids: dict[str, str] = {}
    seen_examples: dict[str, tuple[str, str]] = {}
    all_ids = {t.id for _, kf in files for t in kf.topics}
    for name, kf in files:
        for topic in kf.topics:
            if topic.platform != kf.platform:
                problems.append(
                    Problem(name, topic.id, "id", f"platform prefix differs from '{kf.platform}'")
                )
            if topic.id in seen_ids:
                problems.append(
                    Problem(name, topic.id, "id", f"duplicate id (also in {seen_ids[topic.id]})")
                )
            seen_ids.setdefault(topic.id, name)
            if needs and topic.need not in needs:
                problems.append(
                    Problem(
                        name, topic.id, "need", f"unknown need {topic.need!r} (see {NEEDS_FILE})"
                    )
                )
            for lang in LANGUAGES:
                if lang in REQUIRED_LANGUAGES:
                    continue  # French gaps are reported by `kb check`, not refused at load
                problems.extend(
                    Problem(name, topic.id, f"{lang}.{where}", what)
                    for where, what in topic.gaps(lang)
                )
            required = phrases_pattern(topic.requires)
            for lang in topic.languages if required is not None else ():
                for example in topic.lang(lang).examples:
                    if required is not None and not required.search(clean(example)):
                        problems.append(
                            Problem(
                                name,
                                topic.id,
                                f"{lang}.examples",
                                f"example {example!r} contains none of the 'requires' phrases",
                            )
                        )
            for rel in topic.related:
                if rel not in all_ids:
                    problems.append(Problem(name, topic.id, "related", f"unknown topic {rel!r}"))
            for lang in topic.languages:
                for example in topic.lang(lang).examples:
                    key = " ".join(example.casefold().split())
                    other = seen_examples.get(key)
                    if other and other[0] != topic.id:
                        problems.append(
                            Problem(
                                name,
                                topic.id,
                                f"{lang}.examples",
                                f"example {example!r} is also an example of {other[0]}",
                            )
                        )
                    seen_examples.setdefault(key, (topic.id, name))
            age = (today - topic.last_verified).days
            if age > STALE_AFTER_DAYS:
                warnings.append(
                    Problem(
                        name,
                        topic.id,
                        "last_verified",
                        f"not verified for {age} days (over {STALE_AFTER_DAYS})",
                    )
                )
            if topic.last_verified > today:
                problems.append(Problem(name, topic.id, "last_verified", "date is in the future"))
    return problems, warnings


def load_knowledge(directory: Path | None = None, *, today: dt.date | None = None) -> KnowledgeBase:
    """Load and validate every ``*.yaml`` file of a knowledge directory.

    Args:
        directory: The folder to read; :func:`default_dir` when None.
        today: The date staleness is measured against (for tests).

    Returns:
        The validated knowledge base.

    Raises:
        KnowledgeError: With every problem found, if any.
    """
    directory = directory or default_dir()
    today = today or dt.date.today()
    paths = [
        p
        for p in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
        if p.name not in RESERVED_FILES
    ]
    if not paths:
        raise KnowledgeError([Problem(str(directory), "-", "-", "no .yaml knowledge files found")])
    needs, problems = load_needs(directory)
    files: list[tuple[str, KnowledgeFile]] = []
    digest = hashlib.sha256()
    reader = KnowledgeReader()  # regular files only, sizes and YAML aliases capped
    for path in paths:
        try:
            raw = reader.read(path)
        except OSError as exc:
            problems.append(Problem(str(path), "-", "-", f"cannot read file: {exc}"))
            continue
        digest.update(path.name.encode() + b"\0" + raw)
        parsed, found = _parse_file(str(path), raw)
        problems.extend(found)
        if parsed is not None:
            files.append((str(path), parsed))
    cross, warnings = _cross_checks(files, today, needs)
    problems.extend(cross)
    if problems:
        raise KnowledgeError(problems)
    topics = {t.id: t for _, kf in files for t in kf.topics}
    platforms = {kf.platform: kf.name for _, kf in files}
    return KnowledgeBase(
        topics=topics,
        platforms=platforms,
        version=digest.hexdigest()[:12],
        warnings=warnings,
        directory=directory,
        files={t.id: name for name, kf in files for t in kf.topics},
        needs=tuple(needs),
    )
