# ruff: noqa: E501  (the YAML knowledge base below keeps its long lines)
"""Shared helpers for the Bluesky tests: a small knowledge base, the real local
stack on its own ports, and running the real ``python -m bot run bluesky``.

The stack (PLC + PDS + AppView from ``@atproto/dev-env``, see
``tests/bluesky_stack``) is started on ports 2682-2689 and PostgreSQL 55632 with
its own state directory, so it never collides with another stack on the
default ports. Set ``PB_BSKY_KEEP=1`` to leave it running between runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from fakes.xrpc import CID, FakeXrpc, fake_jwt  # noqa: F401  (old import path, kept for branches in flight)

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

T = TypeVar("T")

STACK_ENV = {
    "BSKY_STACK_DIR": os.environ.get("PB_BSKY_STACK_DIR", "/tmp/pb-bsky-e2e"),
    "BSKY_PG_PORT": "55632",
    "BSKY_PLC_PORT": "2682",
    "BSKY_PDS_PORT": "2683",
    "BSKY_APPVIEW_PORT": "2684",
    "BSKY_OZONE_PORT": "2687",
    "BSKY_CTRL_PORT": "2689",
}

LONG_STEPS = [
    f"Step {i}: open the menu called “Privacy and safety”, then the section about data "
    f"sharing and personalisation, and untick every box that mentions training ({i})."
    for i in range(1, 9)
]

TEST_KB = textwrap.dedent(
    """\
    platform: x
    name: X
    topics:
      - id: x.grok_training
        need: ai_training
        url: https://x.com/settings/grok_settings
        last_verified: 2026-11-01
        sources:
          - {url: "https://help.x.com/en/using-x/about-grok", title: "About Grok", publisher: "X", date: 2026-10-01, kind: official}
        en:
          title: Stop Grok training on your posts
          summary: Untick the Grok data sharing box in your privacy settings.
          short: "Untick “Allow your public data … to be used for training” in Settings › Privacy and safety › Grok."
          examples: [how do I stop grok training, stop grok from training on my posts, grok opt out of training]
          steps:
            web: {steps: ["Open Settings and privacy.", "Privacy and safety › Grok & third-party collaborators.", "Untick the box."]}
            android: {steps: ["Tap your avatar › Settings and privacy.", "Privacy and safety › Grok.", "Untick the box."]}
        fr:
          title: Empêcher Grok de s'entraîner sur vos posts
          summary: Décochez la case de partage de données Grok.
          short: "Décochez « Autoriser l'utilisation de vos données publiques … pour l'entraînement » dans Paramètres › Confidentialité et sécurité › Grok."
          examples: [comment empêcher grok de s'entraîner, empêcher grok d'utiliser mes posts, désactiver l'entraînement de grok]
          steps:
            web: {steps: ["Ouvrez Paramètres et confidentialité.", "Confidentialité et sécurité › Grok.", "Décochez la case."]}
            android: {steps: ["Touchez votre avatar › Paramètres.", "Confidentialité › Grok.", "Décochez la case."]}
      - id: x.long_answer
        need: ai_training
        url: https://x.com/settings/account/personalization_and_data_sharing_with_a_very_long_path
        last_verified: 2026-11-01
        sources:
          - {url: "https://help.x.com/en/rules-and-policies/data-sharing-and-personalisation-very-long", title: "Data", publisher: "X", date: 2026-10-01, kind: official}
          - {url: "https://x.com/en/privacy", title: "Privacy", publisher: "X", date: null, kind: official}
        en:
          title: Turn off personalisation and data sharing
          summary: Several boxes to untick; the steps are long.
          short: "Untick every personalisation and data sharing box 🙅🏽‍♀️ in Settings › Privacy › Data sharing — résumé: all of them."
          examples: [turn off personalisation and data sharing, stop x sharing my data with partners, disable personalization and data sharing]
          steps:
            web: {steps: LONG_STEPS}
        fr:
          title: Désactiver la personnalisation et le partage de données
          summary: Plusieurs cases à décocher.
          examples: [désactiver la personnalisation et le partage de données, empêcher x de partager mes données, arrêter le partage de données avec les partenaires]
          steps:
            web: {steps: ["Ouvrez les paramètres.", "Décochez tout."]}
    """
).replace("LONG_STEPS", "[" + ", ".join(f'"{s}"' for s in LONG_STEPS) + "]")


def write_test_kb(directory: Path) -> Path:
    """Write the test knowledge base into ``directory`` and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "x.yaml").write_text(TEST_KB, encoding="utf-8")
    return directory


def wait_until(fn: Callable[[], T | None], *, timeout: float, what: str, step: float = 0.1) -> T:
    """Poll ``fn`` until it returns something truthy; TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = fn()
            if value:
                return value
        except Exception as exc:  # the AppView may not have caught up yet
            last = exc
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {what} (last error {last!r})"
            )
        time.sleep(step)


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


class BotProcess:
    """The real ``python -m bot run bluesky`` as a subprocess, logs to a file."""

    def __init__(self, env: dict[str, str], log_path: Path, kb_dir: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.kb_dir = kb_dir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        """Start the bot (appending to the log file)."""
        out = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--kb", str(self.kb_dir), "run", "bluesky"],
            cwd=REPO,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        out.close()
        return self

    def log(self) -> str:
        """Everything the bot wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Stop it (SIGTERM drains; SIGKILL simulates a crash) and wait, bounded."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        code = self.proc.returncode
        self.proc = None
        return code


def bot_env(
    *, pds_url: str, handle: str, password: str, db: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Environment for the bot subprocess: only what it needs, all on 127.0.0.1."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BLUESKY_", "TELEGRAM_", "PRIVACYBOT_"))
    }
    env.update(
        {
            "BLUESKY_HANDLE": handle,
            "BLUESKY_APP_PASSWORD": password,
            "BLUESKY_SERVICE_URL": pds_url,
            "BLUESKY_POLL_INTERVAL": "0.3",
            "PRIVACYBOT_DB": str(db),
            "PRIVACYBOT_HEALTH_PORT": "off",
            "PRIVACYBOT_LOG_FORMAT": "text",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


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


async def until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait, without blocking the loop, until ``check()`` is true; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)


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
