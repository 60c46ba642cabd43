"""The admin endpoint and reloading, as an attacker and a bad day would use them (issue 12).

* ``POST /admin/reload`` from a web page (``text/plain``, ``Origin``, a foreign
  ``Host``) or without the admin token is refused with 403; reloads are
  rate-limited;
* a reload builds the new engine off the event loop, one at a time, and a
  reload in progress does not keep a stopping bot alive;
* a malformed HTTP request is one WARNING line, without traceback or its bytes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from helpers.kb import write_kb
from pydantic import SecretStr

from bot import reloader as reloader_module
from bot.core import Core
from bot.health import HealthServer, ReloadResult, admin_token, admin_token_path
from bot.kb.loader import load_knowledge
from bot.messages import IncomingMessage
from bot.metrics import Metrics
from bot.reloader import KnowledgeReloader
from bot.settings import Settings

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[1]
TOKEN = "an-admin-token-for-the-tests-0123"


class Reloads:
    """A reloader that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> ReloadResult:
        self.calls += 1
        return ReloadResult(True, f"v{self.calls}")


async def serve(reload: Reloads, **kwargs: Any) -> tuple[HealthServer, str]:
    server = HealthServer("127.0.0.1", 0, metrics=Metrics(), reload=reload, token=TOKEN, **kwargs)
    port = await server.start()
    return server, f"http://127.0.0.1:{port}/admin/reload"


GOOD = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},  # the form a web page can send without preflight
        {"Content-Type": "application/json"},  # no token
        {**GOOD, "Authorization": "Bearer wrong-token"},
        {**GOOD, "Authorization": TOKEN},  # not a bearer token
        {**GOOD, "Content-Type": "text/plain"},
        {**GOOD, "Origin": "http://evil.example"},
        {**GOOD, "Host": "evil.example"},  # DNS rebinding: the page's own host name
        {**GOOD, "Host": "evil.example:8089"},
        {**GOOD, "Sec-Fetch-Site": "cross-site"},
    ],
)
async def test_requests_a_web_page_could_send_are_refused(headers: dict[str, str]) -> None:
    reload = Reloads()
    server, url = await serve(reload)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, data=b"{}", headers=headers) as resp,
        ):
            status = resp.status
    finally:
        await server.stop()
    assert status == 403
    assert reload.calls == 0


async def test_the_admin_token_and_json_reload() -> None:
    reload = Reloads()
    server, url = await serve(reload)
    try:
        async with aiohttp.ClientSession() as http:
            for host in ("127.0.0.1", "localhost"):
                port = url.split(":")[2].split("/")[0]
                headers = {**GOOD, "Host": f"{host}:{port}"}
                async with http.post(url, data=b"{}", headers=headers) as resp:
                    assert resp.status in (200, 429)
    finally:
        await server.stop()
    assert reload.calls == 1


async def test_reloads_are_rate_limited() -> None:
    reload = Reloads()
    server, url = await serve(reload, reload_interval=60)
    try:
        async with aiohttp.ClientSession() as http:
            statuses = []
            for _ in range(5):
                async with http.post(url, data=b"{}", headers=GOOD) as resp:
                    statuses.append(resp.status)
                    retry_after = resp.headers.get("Retry-After")
    finally:
        await server.stop()
    assert statuses == [200, 429, 429, 429, 429]
    assert retry_after is not None and int(retry_after) > 0
    assert reload.calls == 1


def test_the_token_file_is_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "state" / "bot.sqlite3")
    assert admin_token(settings) is None  # the CLI does not invent one
    token = admin_token(settings, create=True)
    path = admin_token_path(settings)
    assert token and len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert admin_token(settings) == token == admin_token(settings, create=True)
    env = Settings(db_path=tmp_path / "bot.sqlite3", admin_token=SecretStr(TOKEN))
    assert admin_token(env, create=True) == TOKEN


# --- reloading off the event loop ------------------------------------------------------


class Gate:
    """Holds every matcher build until opened; counts the builds."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.armed = False
        self.builds = 0
        self.real = reloader_module.Matcher

    def __call__(self, kb: Any) -> Any:
        if self.armed:
            self.builds += 1
            self.opened.wait(20)
        return self.real(kb)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    gate = Gate()
    monkeypatch.setattr(reloader_module, "Matcher", gate)
    monkeypatch.setattr("bot.core.Matcher", gate)  # where it was built before
    return gate


async def test_replies_go_on_while_a_reload_builds_the_engine(tmp_path: Path, gate: Gate) -> None:
    kb_dir = write_kb(tmp_path / "kb", title="Old title")
    core = Core(load_knowledge(kb_dir))
    reloader = KnowledgeReloader(core, kb_dir, metrics=Metrics())
    write_kb(kb_dir, title="New title")
    gate.armed = True
    reloading = asyncio.ensure_future(reloader())
    while gate.builds == 0:  # the build has started (on its thread, or blocking us)
        await asyncio.sleep(0.01)
    reply = await core.handle(IncomingMessage("how do i stop grok training on my posts"))
    answered_during_reload = not reloading.done()
    gate.opened.set()
    result = await reloading
    assert answered_during_reload, "the reply waited for the reload"
    assert reply.title == "Old title"  # the old engine answered meanwhile
    assert result.ok and core.topic_reply("x.grok_training", "en").title == "New title"


async def test_one_reload_at_a_time_and_requests_meanwhile_share_one(
    tmp_path: Path, gate: Gate
) -> None:
    kb_dir = write_kb(tmp_path / "kb")
    core = Core(load_knowledge(kb_dir))
    reloader = KnowledgeReloader(core, kb_dir, metrics=Metrics())
    gate.armed = True
    first = asyncio.ensure_future(reloader())
    while gate.builds == 0:
        await asyncio.sleep(0.01)
    more = [asyncio.ensure_future(reloader()) for _ in range(35)]  # a burst of SIGHUPs
    await asyncio.sleep(0.05)
    assert gate.builds == 1  # nothing runs beside the first
    gate.opened.set()
    results = await asyncio.gather(first, *more)
    assert all(r.ok for r in results)
    assert gate.builds == 2  # the first, then one for everything that came meanwhile


STOP_DURING_RELOAD = """
import asyncio, threading, time
from pathlib import Path
from bot import reloader
from bot.core import Core
from bot.kb.loader import load_knowledge
from bot.metrics import Metrics

kb_dir = Path({kb_dir!r})
core = Core(load_knowledge(kb_dir))
never = threading.Event()
reloader.load_knowledge = lambda directory: never.wait()  # a knowledge base that never loads

async def main():
    reloading = asyncio.ensure_future(reloader.KnowledgeReloader(core, kb_dir, metrics=Metrics())())
    await asyncio.sleep(0.2)
    reloading.cancel()  # what the application does at shutdown
    print("stopping", flush=True)

asyncio.run(main())
print("stopped", flush=True)
"""


def test_a_reload_in_progress_does_not_keep_a_stopping_bot_alive(tmp_path: Path) -> None:
    kb_dir = write_kb(tmp_path / "kb")
    script = STOP_DURING_RELOAD.format(kb_dir=str(kb_dir))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script)],
            env=env,
            capture_output=True,
            text=True,
            timeout=20,  # before: the executor thread was joined at exit, forever
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the process did not end while a reload was in progress")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["stopping", "stopped"]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- malformed HTTP -------------------------------------------------------------------


async def test_a_malformed_request_is_one_warning_without_traceback_or_bytes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, url = await serve(Reloads())
    port = int(url.split(":")[2].split("/")[0])
    marker = "ATTACKER\u00e9BYTES"
    raw = (
        f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-{marker}\x01: y\r\n"
        "Content-Length: nope\r\n\r\n"
    ).encode()

    def send() -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(raw)
            return sock.recv(4096)

    try:
        with caplog.at_level(logging.DEBUG):
            answer = await asyncio.to_thread(send)
            await asyncio.sleep(0.1)  # the server logs after answering
    finally:
        await server.stop()
    assert answer.split(b"\r\n")[0].endswith(b"400 Bad Request")  # to the sender only
    records = [r for r in caplog.records if r.name.startswith(("aiohttp", "bot.health"))]
    problems = [r for r in records if r.levelno >= logging.WARNING]
    assert len(problems) == 1, [r.getMessage() for r in records]
    (line,) = problems
    assert line.levelno == logging.WARNING and line.exc_info is None and not line.exc_text
    assert "ATTACKER" not in caplog.text and "BYTES" not in caplog.text


async def test_kb_reload_reads_the_token_file_the_bot_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from helpers.ports import free_port

    from bot import cli
    from bot.app import Application
    from bot.channel import ChannelContext
    from bot.store.memory import MemoryStore

    class Idle:
        name = "idle"

        def __init__(self, core: Core) -> None:
            self.core = core

        async def run(self, stop: asyncio.Event) -> None:
            await stop.wait()

    class IdleFactory:
        name = "idle"

        def is_configured(self, env: object) -> bool:
            return True

        def create(self, context: ChannelContext) -> Idle:
            return Idle(context.core)

    kb_dir = write_kb(tmp_path / "kb", title="Old title")
    db, port = tmp_path / "state" / "bot.sqlite3", free_port()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PRIVACYBOT_ADMIN_TOKEN", raising=False)
    for name, value in {
        "PRIVACYBOT_DB": str(db),
        "PRIVACYBOT_HEALTH_PORT": str(port),
        "PRIVACYBOT_KNOWLEDGE_DIR": str(kb_dir),
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings(db_path=db, health_port=port)
    stop = asyncio.Event()
    app = Application(
        load_knowledge(kb_dir), settings=settings, env={}, metrics=Metrics(),
        factories=[IdleFactory()], store=MemoryStore(), kb_dir=kb_dir,
    )  # fmt: skip
    task = asyncio.create_task(app.run(stop=stop))
    try:
        while not admin_token_path(settings).exists() or not listening(port):
            await asyncio.sleep(0.02)
        write_kb(kb_dir, title="Reloaded with the file's token")
        assert await asyncio.to_thread(cli.main, ["kb", "reload"]) == 0
        assert "now uses version" in capsys.readouterr().out
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0
    assert stat.S_IMODE(admin_token_path(settings).stat().st_mode) == 0o600
