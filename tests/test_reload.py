"""Reloading the knowledge base: good versions swap in, bad ones are refused.

Three ways in: the :class:`KnowledgeReloader` itself, SIGHUP to the running
loop, and ``privacybot kb reload`` through the health server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Mapping
from pathlib import Path

import pytest
from helpers.kb import write_kb
from helpers.ports import free_port
from helpers.waits import wait_for
from pydantic import SecretStr

from bot import cli
from bot.app import Application
from bot.channel import ChannelContext
from bot.core import Core
from bot.kb.loader import load_knowledge
from bot.metrics import Metrics
from bot.reloader import KnowledgeReloader
from bot.settings import Settings
from bot.store.memory import MemoryStore

pytestmark = pytest.mark.timeout(30)


class IdleChannel:
    """A channel that only waits for the stop event."""

    name = "idle"

    def __init__(self, core: Core) -> None:
        self.core = core
        self.running = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        self.running.set()  # the application's signal handlers are in place by now
        await stop.wait()


class IdleFactory:
    """Builds the idle channel and keeps it in ``made``."""

    name = "idle"

    def __init__(self) -> None:
        self.made: dict[str, IdleChannel] = {}

    def is_configured(self, env: Mapping[str, str]) -> bool:
        return True

    def create(self, context: ChannelContext) -> IdleChannel:
        self.made["idle"] = IdleChannel(context.core)
        return self.made["idle"]


class ReloadWatch(Metrics):
    """Metrics that also queue every reload's outcome, so a test can await it."""

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: asyncio.Queue[bool] = asyncio.Queue()

    def record_reload(self, ok: bool) -> None:
        super().record_reload(ok)
        self.outcomes.put_nowait(ok)


@pytest.fixture
def idle_module() -> IdleFactory:
    return IdleFactory()


def run_app(
    kb_dir: Path,
    factory: IdleFactory,
    settings: Settings,
    stop: asyncio.Event,
    metrics: Metrics | None = None,
) -> asyncio.Task[int]:
    """Run the application on ``kb_dir`` with the idle channel until ``stop``."""
    app = Application(
        load_knowledge(kb_dir), settings=settings, env={}, metrics=metrics or Metrics(),
        factories=[factory], store=MemoryStore(), kb_dir=kb_dir,
    )  # fmt: skip
    return asyncio.create_task(app.run(stop=stop))


ADMIN_TOKEN = "test-admin-token-0123456789"


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def title(core: Core) -> str:
    return core.topic_reply("x.grok_training", "en").title


async def test_good_version_is_swapped_in(tmp_path: Path) -> None:
    kb_dir = write_kb(tmp_path / "kb", title="Old title")
    core = Core(load_knowledge(kb_dir))
    metrics = Metrics()
    reloader = KnowledgeReloader(core, kb_dir, metrics=metrics)
    old_version = core.kb.version
    write_kb(kb_dir, title="New title")
    result = await reloader()
    assert result.ok and result.problems == []
    assert result.version == core.kb.version != old_version
    assert title(core) == "New title"
    assert metrics.kb_version == core.kb.version
    assert metrics.sample("privacybot_knowledge_reloads_total", result="ok") == 1
    assert metrics.sample("privacybot_knowledge_reloads_total", result="refused") is None


async def test_invalid_version_is_refused_and_the_old_kept(tmp_path: Path) -> None:
    kb_dir = write_kb(tmp_path / "kb", title="Old title")
    core = Core(load_knowledge(kb_dir))
    metrics = Metrics()
    reloader = KnowledgeReloader(core, kb_dir, metrics=metrics)
    old_version = core.kb.version
    write_kb(kb_dir, title="Broken title", broken=True)
    result = await reloader()
    assert not result.ok
    assert result.version == old_version == core.kb.version
    assert any("x.grok_training: sources" in p for p in result.problems)
    assert title(core) == "Old title"
    assert metrics.sample("privacybot_knowledge_reloads_total", result="refused") == 1
    assert metrics.sample("privacybot_knowledge_reloads_total", result="ok") is None


async def test_missing_folder_is_refused(tmp_path: Path) -> None:
    kb_dir = write_kb(tmp_path / "kb")
    core = Core(load_knowledge(kb_dir))
    result = await KnowledgeReloader(core, tmp_path / "gone", metrics=Metrics())()
    assert not result.ok and result.problems


async def test_sighup_reloads_the_running_bot(tmp_path: Path, idle_module: IdleFactory) -> None:
    kb_dir = write_kb(tmp_path / "kb", title="Old title")
    settings = Settings(db_path=Path(":memory:"), health_port=None)
    stop, metrics = asyncio.Event(), ReloadWatch()
    task = run_app(kb_dir, idle_module, settings, stop, metrics)
    try:
        await wait_for(lambda: "idle" in idle_module.made)
        await asyncio.wait_for(idle_module.made["idle"].running.wait(), 5)
        core = idle_module.made["idle"].core
        write_kb(kb_dir, title="After SIGHUP")
        os.kill(os.getpid(), signal.SIGHUP)
        assert await asyncio.wait_for(metrics.outcomes.get(), 10) is True
        assert title(core) == "After SIGHUP"
        write_kb(kb_dir, title="Broken", broken=True)
        os.kill(os.getpid(), signal.SIGHUP)
        assert await asyncio.wait_for(metrics.outcomes.get(), 10) is False  # refused
        assert title(core) == "After SIGHUP"
        reloads = "privacybot_knowledge_reloads_total"
        assert metrics.sample(reloads, result="ok") == 1
        assert metrics.sample(reloads, result="refused") == 1
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0


async def test_kb_reload_command_talks_to_the_running_bot(
    tmp_path: Path,
    idle_module: IdleFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kb_dir = write_kb(tmp_path / "kb", title="Old title")
    port = free_port()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PRIVACYBOT_HEALTH_PORT", str(port))
    monkeypatch.setenv("PRIVACYBOT_KNOWLEDGE_DIR", str(kb_dir))
    monkeypatch.setenv("PRIVACYBOT_ADMIN_TOKEN", ADMIN_TOKEN)
    settings = Settings(
        db_path=Path(":memory:"), health_port=port, admin_token=SecretStr(ADMIN_TOKEN)
    )
    stop = asyncio.Event()
    task = run_app(kb_dir, idle_module, settings, stop)
    try:
        await wait_for(lambda: "idle" in idle_module.made)
        await wait_for(lambda: listening(port))  # the health server starts after the channels
        core = idle_module.made["idle"].core

        write_kb(kb_dir, title="Reloaded by command")
        assert await asyncio.to_thread(cli.main, ["kb", "reload"]) == 0
        assert title(core) == "Reloaded by command"
        assert f"now uses version {core.kb.version}" in capsys.readouterr().out

        # Invalid here: refused before asking the bot.
        write_kb(kb_dir, title="Broken", broken=True)
        assert await asyncio.to_thread(cli.main, ["kb", "reload"]) == cli.EXIT_INVALID
        assert "sources" in capsys.readouterr().err
        assert title(core) == "Reloaded by command"

        # Valid here (--kb) but the bot's own folder is broken: the bot refuses.
        good = write_kb(tmp_path / "good", title="Elsewhere")
        code = await asyncio.to_thread(cli.main, ["--kb", str(good), "kb", "reload"])
        assert code == cli.EXIT_INVALID
        captured = capsys.readouterr()
        assert "refused" in captured.out and "sources" in captured.err
        assert title(core) == "Reloaded by command"
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0


def test_kb_reload_without_a_running_bot_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PRIVACYBOT_KNOWLEDGE_DIR", str(write_kb(tmp_path / "kb")))
    monkeypatch.setenv("PRIVACYBOT_HEALTH_PORT", str(free_port()))
    assert cli.main(["kb", "reload"]) == 1
    assert "SIGHUP" in capsys.readouterr().err
    monkeypatch.setenv("PRIVACYBOT_HEALTH_PORT", "off")
    assert cli.main(["kb", "reload"]) == cli.EXIT_INVALID
    assert "SIGHUP" in capsys.readouterr().err
