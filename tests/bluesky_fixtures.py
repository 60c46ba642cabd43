"""Shared helpers for the Bluesky tests: the real local stack on its own ports,
running the real ``python -m bot run bluesky``, and a channel on the fake PDS.

The stack (PLC + PDS + AppView from ``@atproto/dev-env``, see
``tests/bluesky_stack``) is started on ports 2682-2689 and PostgreSQL 55632 with
its own state directory, so it never collides with another stack on the
default ports. Set ``PB_BSKY_KEEP=1`` to leave it running between runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import processes
from helpers.processes import ROOT as REPO
from helpers.waits import wait_until

STACK_ENV = {
    "BSKY_STACK_DIR": os.environ.get("PB_BSKY_STACK_DIR", "/tmp/pb-bsky-e2e"),
    "BSKY_PG_PORT": "55632",
    "BSKY_PLC_PORT": "2682",
    "BSKY_PDS_PORT": "2683",
    "BSKY_APPVIEW_PORT": "2684",
    "BSKY_OZONE_PORT": "2687",
    "BSKY_CTRL_PORT": "2689",
}


# The stack scripts/test starts (default ports, or the ones it exported), not this
# suite's private one.
MAIN_STACK = {
    "BSKY_STACK_DIR": os.environ.get("BSKY_STACK_DIR", str(REPO / ".stack")),
    "BSKY_PG_PORT": os.environ.get("BSKY_PG_PORT", "55432"),
    "BSKY_PLC_PORT": os.environ.get("BSKY_PLC_PORT", "2582"),
    "BSKY_PDS_PORT": os.environ.get("BSKY_PDS_PORT", "2583"),
    "BSKY_APPVIEW_PORT": os.environ.get("BSKY_APPVIEW_PORT", "2584"),
    "BSKY_OZONE_PORT": os.environ.get("BSKY_OZONE_PORT", "2587"),
    "BSKY_CTRL_PORT": os.environ.get("BSKY_CTRL_PORT", "2589"),
}


def stack_marks(timeout: float) -> list[pytest.MarkDecorator]:
    """``pytestmark`` for a module needing a real stack: slow, bounded, skipped without npm."""
    return [
        pytest.mark.stack,
        pytest.mark.slow,
        pytest.mark.timeout(timeout),
        pytest.mark.skipif(shutil.which("npm") is None, reason="the local Bluesky stack needs npm"),
    ]


@contextlib.contextmanager
def running_stack(variables: dict[str, str] | None = None) -> Iterator[Any]:
    """Start (or reuse) a stack and yield ``tests.bluesky_stack.stack`` pointed at it.

    A stack started here is stopped at the end unless ``PB_BSKY_KEEP`` is set; a
    reused one never is.

    Args:
        variables: Its ports and state folder; this suite's private stack by default.
    """
    with stack_env(variables):
        from tests.bluesky_stack import stack as stack_module

        info = stack_module.start_stack(timeout=300)
        yield stack_module
        if not info.reused and not os.environ.get("PB_BSKY_KEEP"):
            stack_module.stop_stack()


@contextlib.contextmanager
def stack_env(variables: dict[str, str] | None = None) -> Iterator[None]:
    """Point ``tests/bluesky_stack`` at a stack's ports and state dir (this suite's by default)."""
    variables = STACK_ENV if variables is None else variables
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class BotProcess(processes.BotProcess):
    """The real ``python -m bot --kb <kb_dir> run bluesky``, its output in ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path, kb_dir: Path) -> None:
        super().__init__(env, log_path, "--kb", str(kb_dir), "run", "bluesky")
        self.kb_dir = kb_dir


def bot_env(
    *, pds_url: str, handle: str, password: str, db: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Environment for the bot subprocess: only what it needs, all on 127.0.0.1."""
    variables = {
        "BLUESKY_HANDLE": handle,
        "BLUESKY_APP_PASSWORD": password,
        "BLUESKY_SERVICE_URL": pds_url,
        "BLUESKY_POLL_INTERVAL": "0.3",
        "PRIVACYBOT_DB": str(db),
        "PRIVACYBOT_LOG_FORMAT": "text",
    }
    return processes.bot_env(**{**variables, **(extra or {})})


def settle(stack: Any, bot: Any, timeout: float = 30.0) -> None:
    """Wait until the bot has handled every mention sent to it so far.

    A new person (no cap of theirs reached) asks last. The bot posts oldest first,
    each mention's replies whole before the next one's (``drain`` in the Bluesky
    adapter), so once this answer shows, nothing earlier is still to come; then
    ``process_all`` makes the AppView show all that was written. Not usable while
    the AppView's indexing is held: the bot would not see the question.

    Args:
        stack: ``tests.bluesky_stack.stack``, pointed at the running stack.
        bot: The bot's account (its ``did``).
        timeout: Seconds to wait for the answer.
    """
    person = stack.create_account(f"s{secrets.token_hex(4)}.test", "settle-pass-123")
    question = stack.post_mention(person.client, bot, " how do I stop grok training")
    wait_until(
        lambda: replies_by(person.client, question.uri, bot.did),
        timeout=timeout,
        what="the answer to the question asked last",
        step=0.2,
    )
    stack.process_all()


def replies_by(client: Any, uri: str, did: str) -> list[Any]:
    """The direct replies by ``did`` under post ``uri`` (getPostThread, as a user sees it)."""
    thread = client.get_post_thread(uri, depth=1).thread
    return [r for r in (getattr(thread, "replies", None) or []) if r.post.author.did == did]


def fake_channel(core: Any, fake: Any, *, timeout: str = "0.5", **env: str) -> Any:
    """A Bluesky channel pointed at a fake XRPC server, polling fast and backing off briefly.

    Args:
        core: The :class:`bot.core.Core` to answer with.
        fake: The :class:`FakeXrpc` server (its handle, password and URL are used).
        timeout: ``BLUESKY_TIMEOUT`` in seconds.
        **env: More ``BLUESKY_*`` settings.
    """
    from bot.adapters.bluesky import BlueskyChannel, BlueskySettings

    settings = BlueskySettings.from_env(
        {
            "BLUESKY_HANDLE": fake.handle,
            "BLUESKY_APP_PASSWORD": fake.password,
            "BLUESKY_SERVICE_URL": fake.url,
            "BLUESKY_POLL_INTERVAL": "0.1",
            "BLUESKY_TIMEOUT": timeout,
            # The fake's mentions all come from one author: no per-person hourly cap
            # unless a test sets one.
            "BLUESKY_MAX_POSTS_PER_PERSON_HOUR": "1000000",
            **env,
        }
    )
    channel = BlueskyChannel(core, settings)
    channel.gate.backoff_start = 0.1
    return channel


class Running:
    """Run a channel in the background for the ``async with`` block, then stop it.

    Leaving the block sets the channel's stop event and waits (10 s at most) for
    ``run()`` to drain and return, so a test sees everything the channel did.
    """

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Any:
        self.task = asyncio.create_task(self.channel.run(self.stop))
        return self.channel

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, timeout=10)
