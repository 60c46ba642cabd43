"""The ``privacybot`` command line, run as a person would from a terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.processes import run_cli

REPO = Path(__file__).resolve().parents[1]


def test_ask_prints_steps_and_link() -> None:
    done = run_cli("ask", "how do I stop Grok training?")
    assert done.returncode == 0, done.stderr
    assert "https://x.com/settings/grok_settings" in done.stdout
    assert "1. " in done.stdout


def test_ask_json_contract() -> None:
    done = run_cli("ask", "--json", "comment désactiver grok sur android")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert {"topic", "confidence", "language", "surface", "text", "alternatives"} <= set(payload)
    assert payload["topic"] == "x.grok_training"
    assert payload["language"] == "fr"
    assert payload["surface"] == "android"
    assert 0 < payload["confidence"] <= 1
    assert isinstance(payload["text"], str) and payload["text"]
    for alt in payload["alternatives"]:
        assert set(alt) == {"topic", "confidence"} and alt["topic"] != payload["topic"]


def test_ask_json_off_topic_has_null_topic() -> None:
    payload = json.loads(run_cli("ask", "--json", "tell me a joke").stdout)
    assert payload["topic"] is None
    assert payload["surface"] is None
    assert payload["language"] == "en"


def test_ask_surface_option() -> None:
    payload = json.loads(run_cli("ask", "--json", "--surface", "ios", "stop grok training").stdout)
    assert payload["surface"] == "ios"


def test_chat_follow_up_gives_android_steps() -> None:
    done = run_cli("chat", stdin="how do I stop grok training?\nand on Android?\n")
    assert done.returncode == 0, done.stderr
    assert "In the Android app" in done.stdout
    assert done.stdout.count("https://x.com/settings/grok_settings") == 2


def test_topics_lists_every_topic() -> None:
    done = run_cli("topics")
    ids = [line.split("\t")[0] for line in done.stdout.splitlines()]
    assert "x.grok_training" in ids and "bot.privacy" in ids


def test_eval_reports_and_fails_below_min(tmp_path: Path) -> None:
    questions = tmp_path / "q.yaml"
    questions.write_text(
        '- {q: "stop grok training", expect: x.grok_training, lang: en}\n'
        '- {q: "what time is it", expect: null, lang: en}\n'
        '- {q: "tell me a joke", expect: x.grok_training, lang: en}\n'
    )
    done = run_cli("eval", str(questions), "--min", "0.9")
    assert done.returncode == 1
    assert "top-1 accuracy: 66.7% (2/3)" in done.stdout
    assert "off-topic abstention: precision 50.0%, recall 100.0%" in done.stdout
    assert "'tell me a joke': expected x.grok_training, got None" in done.stdout
    assert run_cli("eval", str(questions), "--min", "0.5").returncode == 0


@pytest.mark.parametrize("argv", [["run"]])
def test_run_without_channels_explains_variables(argv: list[str], tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in done.stderr and "BLUESKY_HANDLE" in done.stderr
    # A refused start leaves nothing behind: no salt, no database.
    assert list(tmp_path.iterdir()) == []


def test_chat_number_picks_a_choice_and_follow_ups_use_it() -> None:
    done = run_cli("chat", stdin="grok\n2\nand on Android?\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("Which one do you mean?")
    picked = out.split("\n  2. ", 1)[1].splitlines()[0]
    first = out.index("\n" + picked + "\n")
    second = out.index("\n" + picked + "\n", first + 1)
    assert out.index("In the Android app") > second
