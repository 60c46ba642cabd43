"""Security review checks that stay true as the code grows (see SECURITY.md).

The code is read as syntax trees, not grepped, so comments and docstrings that
mention ``yaml.load`` or ``eval`` do not count, and an alias does not hide a
call. What the logging and health tests already cover (redaction of log lines,
the health document's shape) is not repeated; this adds the end-to-end case of
a channel failing with a secret in its error and ``/healthz`` showing it.
"""

from __future__ import annotations

import ast
import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from helpers.ports import accepts_connections
from helpers.waits import wait_for

from bot.health import HealthServer
from bot.logging_setup import RedactingFilter
from bot.metrics import Metrics
from bot.settings import Settings
from bot.supervise import supervise

REPO = Path(__file__).resolve().parents[1]
PYTHON_DIRS = ("bot", "tests", "bench", "scripts")
# Code that sees what people send, directly or through the core.
USER_FACING = ("bot/core.py", "bot/messages.py", "bot/nlu", "bot/render")


def _files(*roots: str) -> Iterator[Path]:
    for root in roots:
        path = REPO / root
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from (p for p in sorted(path.rglob("*.py")) if "node_modules" not in p.parts)


def _trees(*roots: str) -> Iterator[tuple[str, ast.AST]]:
    for path in _files(*roots):
        yield str(path.relative_to(REPO)), ast.parse(path.read_text(encoding="utf-8"))


def _dotted(node: ast.AST) -> str:
    """``yaml.load`` for an attribute chain, ``eval`` for a name, else ''."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    return ""


UNSAFE_YAML = {
    "unsafe_load",
    "unsafe_load_all",
    "full_load",
    "full_load_all",
    "FullLoader",
    "UnsafeLoader",
    "Loader",
    "CLoader",
    "CFullLoader",
    "CUnsafeLoader",
}


def test_yaml_is_only_loaded_with_safe_loaders() -> None:
    problems = []
    for name, tree in _trees(*PYTHON_DIRS):
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in UNSAFE_YAML
                and _dotted(node.value) == "yaml"
            ):
                problems.append(f"{name}:{node.lineno}: yaml.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "yaml":
                for alias in node.names:
                    if alias.name in ("load", "load_all", "unsafe_load", "full_load", "Loader"):
                        problems.append(f"{name}:{node.lineno}: from yaml import {alias.name}")
            if isinstance(node, ast.Call) and _dotted(node.func) in ("yaml.load", "yaml.load_all"):
                loader = [k.value for k in node.keywords if k.arg == "Loader"]
                if len(node.args) > 1:
                    loader.append(node.args[1])
                if not loader or "Safe" not in _dotted(loader[0]):
                    problems.append(f"{name}:{node.lineno}: yaml.load without a SafeLoader")
    assert not problems, problems


def test_the_safe_loader_alias_really_is_safe() -> None:
    import yaml

    from bot.kb import loader
    from bot.nlu import matcher

    for module in (loader, matcher):
        assert issubclass(module._SafeLoader, yaml.SafeLoader) or module._SafeLoader is getattr(
            yaml, "CSafeLoader", None
        )
        with pytest.raises(yaml.YAMLError):
            yaml.load("!!python/object/apply:os.system ['true']", Loader=module._SafeLoader)


FORBIDDEN_MODULES = {"subprocess", "pickle", "shelve", "marshal", "pty", "ctypes"}
FORBIDDEN_CALLS = {
    "eval",
    "exec",
    "compile",
    "__import__",
    "os.system",
    "os.popen",
    "os.execv",
    "os.execvp",
    "os.execl",
    "os.spawnl",
    "os.spawnv",
    "importlib.import_module",
}
# Reviewed exceptions: (file, call) and why it is safe.
ALLOWED_CALLS: set[tuple[str, str]] = set()


def test_no_shell_eval_or_unpickling_in_the_bot() -> None:
    problems = []
    for name, tree in _trees("bot"):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                problems += [
                    f"{name}:{node.lineno}: import {a.name}"
                    for a in node.names
                    if a.name.split(".")[0] in FORBIDDEN_MODULES
                ]
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module.split(".")[0] in FORBIDDEN_MODULES:
                    problems.append(f"{name}:{node.lineno}: from {node.module} import")
            elif isinstance(node, ast.Call) and _dotted(node.func) in FORBIDDEN_CALLS:
                if (name, _dotted(node.func)) in ALLOWED_CALLS:
                    continue
                problems.append(f"{name}:{node.lineno}: {_dotted(node.func)}()")
    assert not problems, problems


NETWORK_OR_FILES = {"urllib", "http", "httpx", "aiohttp", "socket", "requests", "shutil"}


def test_code_that_reads_user_text_opens_no_file_and_fetches_no_url() -> None:
    """The core, the matcher and the renderers never use text as a path or a URL.

    Files are read only by the knowledge base loader (paths from the settings)
    and the matcher's own out_of_scope.yaml (a constant path); the network is
    only the adapters' platform clients and the CLI's loopback reload call.
    """
    problems = []
    for name, tree in _trees(*USER_FACING):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = (
                    [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                )
                problems += [
                    f"{name}:{node.lineno}: imports {m}"
                    for m in modules
                    # urllib.parse only splits strings (link text for Bluesky).
                    if m and m.split(".")[0] in NETWORK_OR_FILES and m != "urllib.parse"
                ]
            elif isinstance(node, ast.Call):
                called = _dotted(node.func)
                touches_files = called in ("open", "io.open", "os.open") or called.endswith(
                    (".read_text", ".read_bytes", ".write_text", ".write_bytes", ".unlink")
                )
                # The one allowed read: the matcher's constant out-of-scope file.
                allowed = name == "bot/nlu/matcher.py" and "OUT_OF_SCOPE_FILE" in called
                if touches_files and not allowed:
                    problems.append(f"{name}:{node.lineno}: {called}()")
    assert not problems, problems


def test_health_server_listens_on_loopback_by_default() -> None:
    settings = Settings.from_env({})
    assert settings.health_host == "127.0.0.1"
    assert Settings.from_env({"PRIVACYBOT_HEALTH_HOST": "  "}).health_host == "127.0.0.1"

    async def answers_on(hosts: list[str]) -> list[bool]:
        server = HealthServer(settings.health_host, 0, metrics=Metrics())
        port = await server.start()
        try:
            return [await accepts_connections(host, port) for host in hosts]
        finally:
            await server.stop()

    outside = _own_outside_address()
    if outside is None:
        pytest.skip("this machine has no address besides loopback to try")
    assert asyncio.run(answers_on(["127.0.0.1", outside])) == [True, False]


def _own_outside_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


TOKEN = "7012345678:AAF-abcdefghijklmnopqrstuvwxyz012345"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
DB_PASSWORD = "s3cr3t-db-pw"


class _LeakyChannel:
    """A channel whose failure message carries every kind of secret."""

    name = "telegram"

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.runs = 0

    async def run(self, stop: asyncio.Event) -> None:
        self.runs += 1
        if self.runs > 1:
            stop.set()
            return
        raise ConnectionError(
            f"POST https://api.telegram.org/bot{TOKEN}/getUpdates failed; "
            f"login app password {APP_PASSWORD}; "
            f"postgresql://bot:{DB_PASSWORD}@db/privacybot unreachable"
        )


async def test_a_channel_error_with_secrets_never_reaches_healthz_or_metrics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.supervise

    monkeypatch.setattr(bot.supervise, "BACKOFF_START", 0.01)
    metrics = Metrics()
    redactor = RedactingFilter([APP_PASSWORD])  # the token and URL password by their shape
    stop = asyncio.Event()
    channel = _LeakyChannel(stop)
    supervisor = asyncio.create_task(
        supervise(channel, stop, metrics=metrics, redact=redactor.redact)
    )
    await wait_for(
        lambda: metrics.health()["channels"].get("telegram", {}).get("last_error"),
        5,
        what="the channel's failure in the health document",
    )
    server = HealthServer("127.0.0.1", 0, metrics=metrics)
    port = await server.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                health = await resp.text()
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                prometheus = await resp.text()
    finally:
        await server.stop()
        stop.set()
        await asyncio.wait_for(supervisor, 5)
    assert "ConnectionError" in health
    for secret in (TOKEN, TOKEN.split(":")[1], APP_PASSWORD, DB_PASSWORD):
        assert secret not in health
        assert secret not in prometheus


def test_settings_repr_and_description_hide_every_secret() -> None:
    env = {
        "PRIVACYBOT_DATABASE_URL": f"postgresql://bot:{DB_PASSWORD}@db/privacybot",
        "PRIVACYBOT_SALT": "a-very-secret-salt-value",
    }
    settings = Settings.from_env(env)
    shown = f"{settings!r} {settings} {settings.describe()}"
    assert DB_PASSWORD not in shown
    assert "a-very-secret-salt-value" not in shown
