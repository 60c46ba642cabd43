"""The real bot as a child process (``python -m bot ...``), as an operator runs it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parents[2]

# Variables the bot reads: a child starts from none of the caller's, so a
# developer's own settings never leak into a test.
OWN_PREFIXES = ("TELEGRAM_", "BLUESKY_", "PRIVACYBOT_")


def bot_env(**variables: str) -> dict[str, str]:
    """The environment of a bot process: this one's without the bot's variables, plus ``variables``.

    The health server is off and output unbuffered unless ``variables`` say otherwise.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env.update(PRIVACYBOT_HEALTH_PORT="off", PYTHONUNBUFFERED="1")
    env.update(variables)
    return env


def run_cli(
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` in the clone to its end, output captured as text.

    ``env``: the whole environment (see :func:`bot_env`); this process's when None.
    """
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )


class _Child:
    """What both flavours share: the command line, the environment, the log file."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str) -> None:
        self.env = env
        self.log_path = log_path
        self.args = args
        self.hung = False
        """Whether the last ``stop`` had to kill it."""

    @property
    def command(self) -> list[str]:
        """``python -m bot <args>`` with this interpreter."""
        return [sys.executable, "-m", "bot", *self.args]

    def log(self) -> str:
        """Everything it wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class BotProcess(_Child):
    """``python -m bot <args>`` as a child process, its output appended to a log file.

    For synchronous tests; :class:`AsyncBotProcess` is the same for tests whose
    fakes run in the event loop.

    Args:
        env: Its whole environment (see :func:`bot_env`).
        log_path: Where its stdout and stderr go.
        *args: The command line after ``python -m bot``.
    """

    def __init__(self, env: dict[str, str], log_path: Path, *args: str) -> None:
        super().__init__(env, log_path, *args)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        """Start it (returns at once; wait on what it does, not on a delay)."""
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self

    def alive(self) -> bool:
        """Whether it was started and has not exited."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Send ``sig`` (SIGTERM drains; SIGKILL plays a crash) and wait for the exit.

        After ``timeout`` seconds it is killed and :attr:`hung` is set.

        Returns:
            Its exit status; None if it never started.
        """
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.hung = True
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode


class AsyncBotProcess(_Child):
    """:class:`BotProcess` for asyncio tests: waiting for it never blocks the loop."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str) -> None:
        super().__init__(env, log_path, *args)
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Self:
        """Start it (returns at once; wait on what it does, not on a delay)."""
        with self.log_path.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
            )
        return self

    def alive(self) -> bool:
        """Whether it was started and has not exited."""
        return self.proc is not None and self.proc.returncode is None

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Send ``sig`` and wait for the exit; killed after ``timeout`` s (sets :attr:`hung`).

        Returns:
            Its exit status; None if it never started.
        """
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.hung = True
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode
