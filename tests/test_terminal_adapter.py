"""The terminal conversation as a channel (bot/adapters/terminal.py), in process."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.adapters.terminal import CHANNEL, GREETING, PROMPT, USER_ID, TerminalChannel
from bot.core import Core
from bot.kb.loader import KnowledgeBase, load_knowledge
from bot.texts import text

REPO = Path(__file__).resolve().parents[1]
GROK = "https://x.com/settings/grok_settings"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(REPO / "knowledge")


class Keyboard:
    """Lines typed one after another, then end of input; records the prompts shown."""

    def __init__(self, *lines: str) -> None:
        self._lines: Iterator[str] = iter(lines)
        self.prompts: list[str] = []
        self.read = 0

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        try:
            line = next(self._lines)
        except StopIteration:
            raise EOFError from None
        self.read += 1
        return line


def _channel(
    kb: KnowledgeBase,
    keyboard: Callable[[str], str],
    *,
    json_lines: bool = False,
    interactive: bool = False,
) -> tuple[TerminalChannel, io.StringIO]:
    out = io.StringIO()
    channel = TerminalChannel(
        Core(kb), read_line=keyboard, out=out, json_lines=json_lines, interactive=interactive
    )
    return channel, out


async def test_the_person_state_is_kept_in_the_core_store_under_the_terminal_channel(
    kb: KnowledgeBase,
) -> None:
    keyboard = Keyboard("how do I stop grok training?", "and on Android?")
    channel, out = _channel(kb, keyboard)
    await channel.run()
    assert "In the Android app" in out.getvalue()
    assert out.getvalue().count(GROK) == 2
    state = await channel.core.store.get_user(CHANNEL, USER_ID)
    assert state is not None and state.last_topic == "x.grok_training"
    assert state.surface == "android"


async def test_a_language_chosen_with_lang_stays_for_the_next_answers(kb: KnowledgeBase) -> None:
    channel, out = _channel(kb, Keyboard("/lang fr", "how do I stop grok training?"))
    await channel.run()
    first, rest = out.getvalue().split("\n", 1)
    assert first == text("fr", "tg.lang.set")
    state = await channel.core.store.get_user(CHANNEL, USER_ID)
    assert state is not None and state.language == "fr" and state.language_chosen
    french = channel.core.topic_reply("x.grok_training", "fr").title
    assert rest.startswith(french + "\n")  # an English question, answered in French


async def test_json_lines_give_one_object_per_reply(kb: KnowledgeBase) -> None:
    channel, out = _channel(kb, Keyboard("grok", "2", "sources"), json_lines=True)
    await channel.run()
    replies = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["kind"] for r in replies[:1]] == ["clarify"]
    picked = replies[0]["choices"][1]["value"]
    assert replies[1]["topic"] == picked and replies[1]["kind"] == "answer"
    assert replies[2]["topic"] == picked and replies[2]["follow_up"] is True
    assert len(replies) == 3


async def test_a_quit_word_ends_the_conversation_and_later_lines_are_not_read(
    kb: KnowledgeBase,
) -> None:
    keyboard = Keyboard("grok", "exit", "how do I stop grok training?")
    channel, out = _channel(kb, keyboard)
    await channel.run()
    assert keyboard.read == 2
    assert GROK not in out.getvalue().split("Which one do you mean?", 1)[1]


async def test_interactive_greets_and_prompts_and_a_pipe_does_neither(kb: KnowledgeBase) -> None:
    keyboard = Keyboard("hello")
    channel, out = _channel(kb, keyboard, interactive=True)
    await channel.run()
    assert out.getvalue().startswith(GREETING + "\n")
    assert keyboard.prompts == [PROMPT, PROMPT]

    piped = Keyboard("hello")
    channel, out = _channel(kb, piped)
    await channel.run()
    assert not out.getvalue().startswith(GREETING)
    assert piped.prompts == ["", ""]


async def test_run_returns_once_stop_is_set(kb: KnowledgeBase) -> None:
    stop = asyncio.Event()
    lines = iter(["grok", "hello"])

    def read_line(prompt: str) -> str:
        line = next(lines)
        if line == "hello":
            stop.set()  # the application asks the channel to stop after this line
        return line

    channel, out = _channel(kb, read_line)
    await channel.run(stop)
    assert next(lines, None) is None  # both lines read, no third read (it would raise)
    assert "Which one do you mean?" in out.getvalue()
