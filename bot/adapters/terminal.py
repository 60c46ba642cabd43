"""The terminal conversation (``privacybot chat``): a channel like Telegram and Bluesky.

It reads one message a line, passes it to the core as an
:class:`~bot.messages.IncomingMessage` of channel ``"terminal"`` and prints the
reply as plain text (:mod:`bot.render.plain`), or one JSON object a line with
``json_lines``. As on every channel the core decides: "2" after "Which one do
you mean?", "and on Android?" after an answer and "sources" are plain text to
it, and the person's state (last topic, choices, a language chosen with
``/lang``) is kept through core methods in the core's store.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TextIO

from bot.core import Answer, Core
from bot.messages import IncomingMessage, Reply
from bot.nlu.language import normalize_hint
from bot.render.plain import render_plain
from bot.texts import text

CHANNEL = "terminal"
USER_ID = "terminal"  # one person at the keyboard
QUIT_WORDS = frozenset({"quit", "exit", "/quit"})
GREETING = "privacybot: ask how to stop a platform using your data. Ctrl-D to quit."
PROMPT = "> "


def reply_payload(reply: Reply, answer: Answer | None) -> dict[str, object]:
    """One reply of ``privacybot chat --json``.

    Args:
        reply: The reply shown.
        answer: What the core understood, or None for a detail part ("sources").

    Returns:
        The JSON object's fields.
    """
    understood = answer.understood if answer is not None else None
    return {
        "topic": reply.topic_id,
        "kind": reply.kind,
        "language": reply.language,
        "asked_language": understood.language if understood else reply.language,
        "platform": understood.platform if understood else None,
        "need": understood.need if understood else None,
        "surface": reply.surface,
        "follow_up": answer.follow_up if answer is not None else True,
        "choices": [{"kind": c.kind, "value": c.value, "label": c.label} for c in reply.choices],
        "title": reply.title,
    }


class TerminalChannel:
    """One person talking with the core through standard input and output.

    Args:
        core: The core that decides every reply.
        language_hint: A language that breaks ties (``chat --lang``).
        json_lines: Print one JSON object per reply instead of the plain text.
        interactive: Greet the person and show a prompt (a terminal, not a pipe).
        read_line: Reads one line, given the prompt; raises EOFError at the end.
            :func:`input` by default, for line editing and Ctrl-C as usual.
        out: Where replies go; the current ``sys.stdout`` when None.
    """

    name = CHANNEL

    def __init__(
        self,
        core: Core,
        *,
        language_hint: str | None = None,
        json_lines: bool = False,
        interactive: bool = False,
        read_line: Callable[[str], str] = input,
        out: TextIO | None = None,
    ) -> None:
        self.core = core
        self.language_hint = language_hint
        self.json_lines = json_lines
        self.interactive = interactive
        self._read_line = read_line
        self._out = out

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Answer line after line until end of input, a quit word or ``stop``.

        Reading blocks the loop on purpose: there is one person and nothing else
        to serve, and a reader thread would outlive ``asyncio.run`` at Ctrl-C.
        """
        if self.interactive:
            self._print(GREETING)
        prompt = PROMPT if self.interactive else ""
        while stop is None or not stop.is_set():
            try:
                line = self._read_line(prompt)
            except EOFError:
                return
            if not await self.handle_line(line):
                return

    async def handle_line(self, line: str) -> bool:
        """Answer one line.

        Returns:
            False when the person asked to quit, True otherwise.
        """
        if line.strip().lower() in QUIT_WORDS:
            return False
        wanted = line.strip().split()
        language = normalize_hint(wanted[1]) if len(wanted) == 2 else None
        if wanted[:1] == ["/lang"] and language:
            # The choice stays until the person changes it, as on Telegram.
            await self.core.set_language(CHANNEL, USER_ID, language)
            self._print(text(language, "tg.lang.set"))
            return True
        incoming = IncomingMessage(
            text=line, channel=CHANNEL, user_id=USER_ID, language_hint=self.language_hint
        )
        answer: Answer | None = None
        reply = await self.core.detail_request(incoming)
        if reply is None:
            answer = await self.core.respond(incoming)
            reply = answer.reply
        if self.json_lines:
            payload = json.dumps(reply_payload(reply, answer), ensure_ascii=False)
            print(payload, file=self._out, flush=True)
        else:
            self._print(render_plain(reply))
            self._print("")
        return True

    def _print(self, line: str) -> None:
        print(line, file=self._out)
