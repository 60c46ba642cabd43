"""``privacybot eval`` on question and conversation files, and ``chat --json`` (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.processes import run_cli

from bot.core import Core
from bot.evaluation import evaluate_async, format_report, load_file
from bot.kb.loader import KnowledgeBase
from bot.store.memory import MemoryStore

REPO = Path(__file__).resolve().parents[1]
EVAL = Path(__file__).parent / "eval"


@pytest.fixture(scope="module")
def core(knowledge: KnowledgeBase) -> Core:
    return Core(knowledge, MemoryStore())


async def test_conversation_files_report_per_turn_and_per_conversation(
    core: Core, tmp_path: Path
) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "- lang: en\n  turns:\n"
        "    - {q: 'stop grok training', expect: x.grok_training, surface: null}\n"
        "    - {q: 'and on android?', expect: x.grok_training, surface: android}\n"
        "- lang: en\n  turns:\n"
        "    - {q: 'stop grok training', expect: x.grok_training, surface: null}\n"
        "    - {q: 'and on android?', expect: x.grok_training, surface: ios}\n",
        encoding="utf-8",
    )
    cases, dialogues = load_file(path)
    assert cases == [] and len(dialogues) == 2
    report = await evaluate_async(core, cases, dialogues)
    assert (report.total, report.correct) == (4, 3)
    assert (report.dialogues, report.dialogues_correct) == (2, 1)
    text = format_report(report)
    assert "conversations right at every turn: 50.0% (1/2)" in text
    assert "other platform's steps: 0" in text


async def test_another_platforms_steps_are_counted(core: Core, tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    # Expecting X's steps: Facebook's steps count as another platform's; an honest
    # "not covered" for Spotify is only a top-1 miss.
    path.write_text(
        "- {q: 'delete my facebook account', expect: x.delete_account, lang: en}\n"
        "- {q: 'delete my spotify account', expect: x.delete_account, lang: en}\n",
        encoding="utf-8",
    )
    report = await evaluate_async(core, *load_file(path))
    assert report.correct == 0 and report.wrong_platform == 1
    assert report.kinds["not_covered"] == 1 and report.kinds["answer"] == 1


@pytest.mark.parametrize("name", sorted(p.name for p in EVAL.glob("*.yaml")))
async def test_held_out_sets(core: Core, name: str) -> None:
    """Our own held-out sets: the issue's targets, measured (not timed)."""
    report = await evaluate_async(core, *load_file(EVAL / name))
    misses = [(m.case.question, m.case.expect, m.got, m.kind) for m in report.misses]
    assert report.wrong_platform == 0, misses
    assert report.in_scope_accuracy >= 0.90, misses
    assert report.abstention_recall >= 0.95, misses
    assert report.language_accuracy >= 0.95, misses
    assert report.dialogue_accuracy >= 0.90, misses


def test_chat_json_reads_lines_and_prints_one_object_per_reply() -> None:
    done = run_cli("chat", "--json", stdin="grok\n2\nand on Android?\nhow about instagram?\n")
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(replies) == 4
    assert {"topic", "language", "surface", "kind", "choices"} <= set(replies[0])
    assert replies[0]["kind"] == "clarify" and len(replies[0]["choices"]) == 3
    assert replies[1]["topic"] == replies[0]["choices"][1]["value"]
    assert replies[2]["topic"] == replies[1]["topic"] and replies[2]["surface"] == "android"
    assert replies[3]["platform"] == "instagram"


def test_ask_json_has_platform_need_and_asked_language() -> None:
    done = run_cli("ask", "--json", "Wie lösche ich mein Twitter-Konto?")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["platform"] == "x" and payload["need"] == "delete_account"
    assert payload["asked_language"] == "de" and payload["language"] == "de"
    assert payload["topic"] == "x.delete_account"


def test_eval_command_takes_conversation_files() -> None:
    done = run_cli("eval", str(EVAL / "heldout-dialogues.yaml"))
    assert done.returncode == 0, done.stderr
    assert "conversations right at every turn:" in done.stdout


def test_an_invalid_registry_is_reported_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_bytes((REPO / "knowledge" / "x.yaml").read_bytes())
    (tmp_path / "platforms.yaml").write_text(
        "platforms:\n- {id: x, name: X, kind: nope, names: {all: [x]}}\n", encoding="utf-8"
    )
    done = run_cli("--kb", str(tmp_path), "ask", "hi")
    assert done.returncode == 2
    assert "platforms.yaml: x: kind:" in done.stderr and "Traceback" not in done.stderr
