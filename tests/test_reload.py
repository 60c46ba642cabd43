"""Reloading the knowledge base: good versions swap in, bad ones are refused.

Three ways in: the :class:`KnowledgeReloader` itself, SIGHUP to the running
loop, and ``privacybot kb reload`` through the health server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import types
from pathlib import Path

import pytest
from pydantic import SecretStr
from store_fixtures import free_port, write_kb

from bot import cli
from bot.core import Core
from bot.kb.loader import load_knowledge
from bot.metrics import Metrics
from bot.runner import KnowledgeReloader, run_channels
from bot.settings import Settings
from bot.store.memory import MemoryStore

pytestmark = pytest.mark.timeout(30)


class IdleChannel:
    """A channel that only waits for the stop event."""

    name = "idle"

    def __init__(self, core: Core) -> None:
        self.core = core

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()


@pytest.fixture
def idle_module(monkeypatch: pytest.MonkeyPatch) -> dict[str, IdleChannel]:
    made: dict[str, IdleChannel] = {}
    module = types.ModuleType("idle_channel_for_tests")

    def create_channel(core: Core, env: object) -> IdleChannel:
        made["idle"] = IdleChannel(core)
        return made["idle"]

    module.is_configured = lambda env: True  # type: ignore[attr-defined]
    module.create_channel = create_channel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "idle_channel_for_tests", module)
    return made


ENV = {"PRIVACYBOT_CHANNEL_MODULES": "idle=idle_channel_for_tests"}
ADMIN_TOKEN = "test-admin-token-0123456789"


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def title(core: Core) -> str:
    return core.topic_reply("x.grok_training", "en").title


async def wait_for(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


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
    assert metrics.reloads == {"ok": 1}


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
    assert metrics.reloads == {"refused": 1}


async def test_missing_folder_is_refused(tmp_path: Path) -> None:
    kb_dir = write_kb(tmp_path / "kb")
    core = Core(load_knowledge(kb_dir))
    result = await KnowledgeReloader(core, tmp_path / "gone", metrics=Metrics())()
    assert not result.ok and result.problems


async def test_sighup_reloads_the_running_bot(
    tmp_path: Path, idle_module: dict[str, IdleChannel]
) -> None:
    kb_dir = write_kb(tmp_path / "kb", title="Old title")
    settings = Settings(db_path=Path(":memory:"), health_port=None)
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_channels(
            [], load_knowledge(kb_dir), env=ENV, settings=settings, store=MemoryStore(),
            stop=stop, kb_dir=kb_dir, metrics=Metrics(),
        )
    )  # fmt: skip
    try:
        await wait_for(lambda: "idle" in idle_module)
        core = idle_module["idle"].core
        write_kb(kb_dir, title="After SIGHUP")
        await asyncio.sleep(0.05)  # let the runner install its handlers
        os.kill(os.getpid(), signal.SIGHUP)
        await wait_for(lambda: title(core) == "After SIGHUP")
        write_kb(kb_dir, title="Broken", broken=True)
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.sleep(0.3)
        assert title(core) == "After SIGHUP"
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0


async def test_kb_reload_command_talks_to_the_running_bot(
    tmp_path: Path,
    idle_module: dict[str, IdleChannel],
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
    task = asyncio.create_task(
        run_channels(
            [], load_knowledge(kb_dir), env=ENV, settings=settings, store=MemoryStore(),
            stop=stop, kb_dir=kb_dir, metrics=Metrics(),
        )
    )  # fmt: skip
    try:
        await wait_for(lambda: "idle" in idle_module)
        await wait_for(lambda: listening(port))  # the health server starts after the channels
        core = idle_module["idle"].core

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
