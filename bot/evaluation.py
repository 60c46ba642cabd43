"""Measuring the answer engine on question or conversation files (``privacybot eval``).

Two formats, told apart by their entries:

- questions (``../shared/eval/dev.yaml``): a list of ``{q, expect, lang}``
  where ``expect`` is a topic id or null (the bot must not answer with a
  topic) and ``lang`` the language the person wrote in;
- conversations (``../shared/eval/dev-dialogues.yaml``): a list of
  ``{lang, turns: [{q, expect, surface}]}``, each turn a message from the same
  person; ``surface`` is the steps the reply must show (null: any).

Every message goes through :meth:`bot.core.Core.respond`, as on a channel, so
what is measured is what people get. Besides top-1 accuracy and abstention,
the report counts replies that gave another platform's steps (a topic of a
platform the question did not name, or not the expected platform): the one
mistake that must never happen.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core import Answer, Core
from bot.messages import IncomingMessage
from bot.nlu.registry import fold
from bot.texts import text


@dataclass(frozen=True, slots=True)
class Case:
    """One question of an eval file (or one turn of a conversation)."""

    question: str
    expect: str | None
    language: str
    surface: str | None = None


@dataclass(frozen=True, slots=True)
class Dialogue:
    """One conversation of an eval file."""

    language: str
    turns: tuple[Case, ...]


@dataclass(frozen=True, slots=True)
class Miss:
    """A question answered wrongly (or in the wrong language)."""

    case: Case
    got: str | None
    got_language: str
    confidence: float
    kind: str = ""


@dataclass(slots=True)
class Report:
    """The figures ``privacybot eval`` prints."""

    total: int = 0
    correct: int = 0
    language_correct: int = 0
    per_topic: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    per_language: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    abstained: int = 0
    abstained_correctly: int = 0
    expected_null: int = 0
    in_scope: int = 0
    in_scope_correct: int = 0
    wrong_platform: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    dialogues: int = 0
    dialogues_correct: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[Miss] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of questions whose topic (or abstention) was right."""
        return self.correct / self.total if self.total else 0.0

    @property
    def in_scope_accuracy(self) -> float:
        """Top-1 accuracy on the questions that have a topic."""
        return self.in_scope_correct / self.in_scope if self.in_scope else 1.0

    @property
    def abstention_precision(self) -> float:
        """Of the questions the engine declined, the share that were off-topic."""
        return self.abstained_correctly / self.abstained if self.abstained else 1.0

    @property
    def abstention_recall(self) -> float:
        """Of the off-topic questions, the share the engine declined."""
        return self.abstained_correctly / self.expected_null if self.expected_null else 1.0

    @property
    def language_accuracy(self) -> float:
        """Share of replies in the person's language, or English saying it is untranslated."""
        return self.language_correct / self.total if self.total else 0.0

    @property
    def dialogue_accuracy(self) -> float:
        """Share of conversations right at every turn."""
        return self.dialogues_correct / self.dialogues if self.dialogues else 1.0


def _case(item: Any, where: str, language: str | None = None) -> Case:
    if not isinstance(item, dict) or "q" not in item or (language is None and "lang" not in item):
        raise ValueError(f"{where}: needs q, expect and lang")
    return Case(
        str(item["q"]),
        item.get("expect"),
        str(item.get("lang") or language),
        item.get("surface"),
    )


def load_file(path: Path) -> tuple[list[Case], list[Dialogue]]:
    """Read an eval file of questions or of conversations (or both mixed).

    Raises:
        ValueError: If an entry is neither a question nor a conversation.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    cases: list[Case] = []
    dialogues: list[Dialogue] = []
    for i, item in enumerate(data):
        if isinstance(item, dict) and "turns" in item:
            lang = str(item.get("lang", "en"))
            turns = tuple(
                _case(t, f"{path}: entry {i} turn {j}", lang)
                for j, t in enumerate(item["turns"] or [])
            )
            dialogues.append(Dialogue(lang, turns))
        else:
            cases.append(_case(item, f"{path}: entry {i}"))
    return cases, dialogues


def load_cases(path: Path) -> list[Case]:
    """Read the questions of an eval file (conversations are left out)."""
    return load_file(path)[0]


def _wrong_platform(core: Core, case: Case, got: str | None) -> bool:
    """Whether a reply gave the steps of a platform the person did not mean."""
    if got is None:
        return False
    engine = core.engine
    topic = core.kb.topics[got]
    if topic.platform == "bot":
        return False
    if case.expect is not None:
        return core.kb.topics[case.expect].platform != topic.platform
    named = [m.platform for m in engine.registry.mentions(case.question, fold(case.question))]
    named = [p for p in named if p != "bot"]
    products = engine.products_of.get(got, ())
    return bool(named) and not any(
        engine.registry.related(p, product) for p in named for product in products
    )


def _score(report: Report, core: Core, case: Case, answer: Answer) -> bool:
    reply = answer.reply
    got = reply.topic_id if reply.kind == "answer" else None
    ok = got == case.expect
    if case.surface is not None and ok:
        ok = reply.surface == case.surface
    note = text(case.language, "untranslated")
    language_ok = reply.language == case.language or (
        reply.language == "en" and note in reply.summary
    )
    report.total += 1
    report.correct += ok
    report.language_correct += language_ok
    report.kinds[reply.kind] += 1
    report.latencies_ms.append(answer.latency_ms)
    key = case.expect or "(none)"
    report.per_topic[key][0] += ok
    report.per_topic[key][1] += 1
    report.per_language[case.language][0] += ok
    report.per_language[case.language][1] += 1
    if case.expect is None:
        report.expected_null += 1
    else:
        report.in_scope += 1
        report.in_scope_correct += ok
    if got is None:
        report.abstained += 1
        report.abstained_correctly += case.expect is None
    report.wrong_platform += _wrong_platform(core, case, got)
    if not ok or not language_ok:
        report.misses.append(Miss(case, got, reply.language, reply.confidence, reply.kind))
    return ok


async def evaluate_async(
    core: Core, cases: list[Case], dialogues: list[Dialogue] | None = None
) -> Report:
    """Run every question (each as a new person) and every conversation through the core."""
    report = Report()
    run = secrets.token_hex(4)  # a new person per question, even across runs on one core
    for i, case in enumerate(cases):
        answer = await core.respond(IncomingMessage(text=case.question, user_id=f"eval-{run}-q{i}"))
        _score(report, core, case, answer)
    for i, dialogue in enumerate(dialogues or []):
        all_right = True
        for case in dialogue.turns:
            answer = await core.respond(
                IncomingMessage(text=case.question, user_id=f"eval-{run}-d{i}")
            )
            all_right &= _score(report, core, case, answer)
        report.dialogues += 1
        report.dialogues_correct += all_right
    return report


def evaluate(core: Core, cases: list[Case], dialogues: list[Dialogue] | None = None) -> Report:
    """Synchronous :func:`evaluate_async` (for the command line and tests)."""
    return asyncio.run(evaluate_async(core, cases, dialogues))


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def format_report(report: Report) -> str:
    """Render the report as the text ``privacybot eval`` prints."""
    lines = [
        f"messages: {report.total}",
        f"top-1 accuracy: {report.accuracy:.1%} ({report.correct}/{report.total})",
        f"in-scope top-1: {report.in_scope_accuracy:.1%} "
        f"({report.in_scope_correct}/{report.in_scope})",
        f"off-topic abstention: precision {report.abstention_precision:.1%}, "
        f"recall {report.abstention_recall:.1%} ({report.abstained_correctly} declined of "
        f"{report.expected_null} off-topic; {report.abstained} declined in all)",
        f"other platform's steps: {report.wrong_platform}",
        f"reply language (theirs, or English saying so): {report.language_accuracy:.1%}",
    ]
    if report.dialogues:
        lines.append(
            f"conversations right at every turn: {report.dialogue_accuracy:.1%} "
            f"({report.dialogues_correct}/{report.dialogues})"
        )
    lines.append(
        f"latency per message: p50 {_percentile(report.latencies_ms, 0.5):.2f} ms, "
        f"p99 {_percentile(report.latencies_ms, 0.99):.2f} ms"
    )
    lines.append("reply kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(report.kinds.items())))
    lines.append("per language:")
    for lang, (ok, n) in sorted(report.per_language.items()):
        lines.append(f"  {lang}: {ok / n:.1%} ({ok}/{n})")
    lines.append("per topic:")
    for topic, (ok, n) in sorted(report.per_topic.items()):
        lines.append(f"  {topic}: {ok / n:.1%} ({ok}/{n})")
    if report.misses:
        lines.append("misses:")
        for miss in report.misses:
            surface = f" on {miss.case.surface}" if miss.case.surface else ""
            lines.append(
                f"  [{miss.case.language}->{miss.got_language}] {miss.case.question!r}: expected "
                f"{miss.case.expect}{surface}, got {miss.got} ({miss.kind}, {miss.confidence:.2f})"
            )
    return "\n".join(lines)
