"""Measuring the answer engine on a question file (``privacybot eval``).

The file format is ``../shared/eval/dev.yaml``'s: a list of ``{q, expect, lang}``
where ``expect`` is a topic id or null (the bot must say it cannot help).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.nlu.matcher import Matcher


@dataclass(frozen=True, slots=True)
class Case:
    """One question of an eval file."""

    question: str
    expect: str | None
    language: str


@dataclass(frozen=True, slots=True)
class Miss:
    """A question answered wrongly."""

    case: Case
    got: str | None
    got_language: str
    confidence: float


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
    misses: list[Miss] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of questions whose topic (or abstention) was right."""
        return self.correct / self.total if self.total else 0.0

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
        """Share of questions answered in the expected language."""
        return self.language_correct / self.total if self.total else 0.0


def load_cases(path: Path) -> list[Case]:
    """Read an eval file.

    Raises:
        ValueError: If an entry lacks ``q`` or ``lang``.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    cases = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or "q" not in item or "lang" not in item:
            raise ValueError(f"{path}: entry {i}: needs q, expect and lang")
        cases.append(Case(str(item["q"]), item.get("expect"), str(item["lang"])))
    return cases


def evaluate(matcher: Matcher, cases: list[Case]) -> Report:
    """Run every case through the matcher and count.

    A question the engine finds ambiguous counts as declined: it asks rather
    than answers.
    """
    report = Report()
    for case in cases:
        match = matcher.understand(case.question)
        got = None if match.ambiguous else match.topic_id
        ok = got == case.expect
        report.total += 1
        report.correct += ok
        report.language_correct += match.language == case.language
        key = case.expect or "(none)"
        report.per_topic[key][0] += ok
        report.per_topic[key][1] += 1
        report.per_language[case.language][0] += ok
        report.per_language[case.language][1] += 1
        if case.expect is None:
            report.expected_null += 1
        if got is None:
            report.abstained += 1
            report.abstained_correctly += case.expect is None
        if not ok or match.language != case.language:
            report.misses.append(Miss(case, got, match.language, match.confidence))
    return report


def format_report(report: Report) -> str:
    """Render the report as the text ``privacybot eval`` prints."""
    lines = [
        f"questions: {report.total}",
        f"top-1 accuracy: {report.accuracy:.1%} ({report.correct}/{report.total})",
        f"off-topic abstention: precision {report.abstention_precision:.1%}, "
        f"recall {report.abstention_recall:.1%} ({report.abstained_correctly} declined of "
        f"{report.expected_null} off-topic; {report.abstained} declined in all)",
        f"reply language accuracy: {report.language_accuracy:.1%}",
        "per language:",
    ]
    for lang, (ok, n) in sorted(report.per_language.items()):
        lines.append(f"  {lang}: {ok / n:.1%} ({ok}/{n})")
    lines.append("per topic:")
    for topic, (ok, n) in sorted(report.per_topic.items()):
        lines.append(f"  {topic}: {ok / n:.1%} ({ok}/{n})")
    if report.misses:
        lines.append("misses:")
        for miss in report.misses:
            lines.append(
                f"  [{miss.case.language}->{miss.got_language}] {miss.case.question!r}: expected "
                f"{miss.case.expect}, got {miss.got} ({miss.confidence:.2f})"
            )
    return "\n".join(lines)
