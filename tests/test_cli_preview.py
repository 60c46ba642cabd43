"""``privacybot ask --full/--channel``, ``preview`` and ``deeplinks``, run as an editor would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers.processes import run_cli

REPO = Path(__file__).resolve().parents[1]
QUESTION = "how do I stop Grok training?"


def test_ask_prints_the_short_answer_and_full_prints_everything() -> None:
    short = run_cli("ask", QUESTION)
    full = run_cli("ask", "--full", QUESTION)
    assert short.returncode == full.returncode == 0, short.stderr + full.stderr
    assert "https://x.com/settings/grok_settings" in short.stdout
    assert "What happens:" not in short.stdout and "Sources:" not in short.stdout
    assert "What happens:" in full.stdout and "Sources:" in full.stdout
    assert "In the Android app:" in full.stdout
    assert len(full.stdout) > 2 * len(short.stdout)


def test_ask_channel_telegram_json_is_what_telegram_gets() -> None:
    done = run_cli("ask", "--channel", "telegram", "--json", QUESTION)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["channel"] == "telegram" and payload["topic"] == "x.grok_training"
    assert {"confidence", "language", "surface", "text", "alternatives"} <= set(payload)
    (message,) = payload["messages"]
    assert set(message) == {"text", "visible_length", "buttons"}
    assert message["text"].startswith("<b>") and message["visible_length"] <= 700
    assert message["visible_length"] < len(message["text"])  # counted after parsing the HTML
    assert {"label": "Sources", "data": "p:en:x.grok_training:sources.web"} in message["buttons"]


def test_ask_channel_full_sends_every_part_after_the_short() -> None:
    short = json.loads(run_cli("ask", "--channel", "telegram", "--json", QUESTION).stdout)
    done = run_cli("ask", "--channel", "telegram", "--full", "--json", QUESTION)
    assert done.returncode == 0, done.stderr
    messages = json.loads(done.stdout)["messages"]
    assert messages[0] == short["messages"][0]
    assert len(messages) > len(short["messages"])
    assert any("Sources" in m["text"] for m in messages[1:])


def test_ask_channel_bluesky_json_has_facets_and_the_card() -> None:
    done = run_cli("ask", "--channel", "bluesky", "--json", "--lang", "fr", "désactiver grok")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    (post,) = payload["posts"]
    assert set(post) == {"text", "graphemes", "facets", "embed"}
    assert post["graphemes"] <= 300
    assert {
        "text": "x.com/settings/grok_settings",
        "uri": "https://x.com/settings/grok_settings",
    } in (post["facets"])
    assert post["embed"]["uri"] == "https://x.com/settings/grok_settings"
    assert payload["language"] == "fr"


def test_preview_shows_every_part_in_every_language() -> None:
    done = run_cli("preview", "x.grok_training", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"en", "fr"} <= set(result)
    for by_channel in result.values():
        assert set(by_channel) == {"plain", "telegram", "bluesky"}
        assert set(by_channel["telegram"]) == {"short", "surfaces", "why", "sources", "related"}
    assert run_cli("preview", "x.nothing").returncode == 1


def test_deeplinks_give_a_start_link_per_topic() -> None:
    done = run_cli("deeplinks", "--bot", "@privacybot")
    assert done.returncode == 0, done.stderr
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in done.stdout.splitlines()}
    assert rows["x.grok_training"][0] == "https://t.me/privacybot?start=x-grok_training"
    assert "https://t.me/privacybot?start=x-grok_training-fr" in rows["x.grok_training"]


def test_chat_shows_a_part_when_asked_for_it_in_a_word() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input=f"{QUESTION}\nsources\nmore\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    first = done.stdout.split("\n\n", 1)[0]
    assert "Sources:" not in first
    assert "Sources:\n  - " in done.stdout  # "sources": the best three, dated
    assert "What happens:" in done.stdout  # "more": why / what happens
