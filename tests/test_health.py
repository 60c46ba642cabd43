"""Metrics content, the Prometheus text format, and the /healthz, /metrics server."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import aiohttp
import pytest

from bot.core import Core
from bot.health import HealthServer, ReloadResult, _is_loopback
from bot.kb.loader import load_knowledge
from bot.messages import IncomingMessage
from bot.metrics import LATENCY_BUCKETS, Metrics

pytestmark = pytest.mark.timeout(30)

_SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?P<labels>[a-z_]+="(?:[^"\\]|\\.)*"'
    r'(?:,[a-z_]+="(?:[^"\\]|\\.)*")*)\})? (?P<value>-?[0-9.e+-]+|\+Inf|NaN)$'
)


def parse_prometheus(text: str) -> dict[str, float]:
    """Check the exposition format and return samples by ``name{labels}``."""
    assert text.endswith("\n")
    typed: dict[str, str] = {}
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram")
            typed[name] = kind
            continue
        if line.startswith("# HELP "):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        name = match["name"]
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or family in typed, f"{name} has no # TYPE line"
        # Keyed with the labels in name order: the order on the line carries no meaning.
        labels = ",".join(sorted(re.findall(r'[a-z_]+="(?:[^"\\]|\\.)*"', match["labels"] or "")))
        key = f"{name}{{{labels}}}" if labels else name
        samples[key] = float(match["value"])
    return samples


@pytest.fixture
def core(kb_dir: Path) -> Core:
    return Core(load_knowledge(kb_dir))


async def test_answers_fallbacks_and_latency_are_counted(core: Core) -> None:
    metrics = Metrics()
    answer = await core.respond(IncomingMessage("how do I stop grok training", "telegram", "1"))
    metrics.record_answer("telegram", answer, latency_ms=30.0)
    metrics.record_answer("telegram", answer, latency_ms=700.0)
    fallback = await core.respond(IncomingMessage("what is the weather", "bluesky", "2"))
    metrics.record_answer("bluesky", fallback, latency_ms=3.0)
    metrics.record_rate_limited("telegram", retry_after=3)
    metrics.record_error("bluesky", "send")
    metrics.record_message("telegram")  # a /forget command
    samples = parse_prometheus(metrics.render())

    assert samples['privacybot_messages_total{channel="telegram"}'] == 3
    assert samples['privacybot_messages_total{channel="bluesky"}'] == 1
    key = 'channel="telegram",kind="answer",language="en",topic="x.grok_training"'
    assert samples[f"privacybot_answers_total{{{key}}}"] == 2
    assert samples['privacybot_fallbacks_total{channel="bluesky",language="en"}'] == 1
    assert samples['privacybot_rate_limited_total{channel="telegram"}'] == 1
    assert samples['privacybot_errors_total{channel="bluesky",kind="send"}'] == 1
    buckets = [
        samples[f'privacybot_answer_latency_seconds_bucket{{channel="telegram",le="{b!r}"}}']
        for b in LATENCY_BUCKETS
    ]
    assert buckets == sorted(buckets)  # cumulative
    assert samples['privacybot_answer_latency_seconds_bucket{channel="telegram",le="0.05"}'] == 1
    assert samples['privacybot_answer_latency_seconds_bucket{channel="telegram",le="1.0"}'] == 2
    assert samples['privacybot_answer_latency_seconds_bucket{channel="telegram",le="+Inf"}'] == 2
    assert samples['privacybot_answer_latency_seconds_count{channel="telegram"}'] == 2
    assert samples['privacybot_answer_latency_seconds_sum{channel="telegram"}'] == pytest.approx(
        0.73
    )


async def test_answer_log_line_has_the_fields_and_no_text(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    question = "how do I stop grok training zqxjkv"
    answer = await core.respond(IncomingMessage(question, "telegram", "987654321"))
    with caplog.at_level(logging.INFO, logger="bot.answers"):
        metrics.record_answer("telegram", answer)
    (record,) = [r for r in caplog.records if r.name == "bot.answers"]
    assert record.getMessage() == "answered"
    assert record.channel == "telegram"
    assert record.topic == "x.grok_training"
    assert record.language == "en"
    assert 0 < record.confidence <= 1
    assert record.latency_ms >= 0
    assert "zqxjkv" not in caplog.text and "987654321" not in caplog.text
    assert "zqxjkv" not in str(vars(record))


def test_label_values_are_escaped() -> None:
    metrics = Metrics()
    metrics.set_knowledge('v"1\\x\n', 3)
    samples = parse_prometheus(metrics.render())
    assert samples['privacybot_knowledge_info{topics="3",version="v\\"1\\\\x\\n"}'] == 1


def test_channel_states_make_the_health_status() -> None:
    metrics = Metrics()
    assert metrics.health()["status"] == "down"
    metrics.set_channel_state("telegram", "starting")
    metrics.set_channel_state("bluesky", "starting")
    assert metrics.health()["status"] == "starting"
    metrics.set_channel_state("telegram", "running")
    metrics.set_channel_state("bluesky", "running")
    assert metrics.health()["status"] == "ok"
    metrics.set_channel_state("bluesky", "restarting", error="OSError: refused")
    doc = metrics.health()
    assert doc["status"] == "degraded"
    assert doc["channels"]["bluesky"]["restarts"] == 1
    assert doc["channels"]["bluesky"]["last_error"] == "OSError: refused"
    metrics.set_channel_state("telegram", "failed", error="ConfigError")
    metrics.set_channel_state("bluesky", "stopped")
    assert metrics.health()["status"] == "down"
    with pytest.raises(ValueError):
        metrics.set_channel_state("telegram", "sleeping")


def test_an_unreachable_server_shows_as_reconnecting_without_a_restart() -> None:
    metrics = Metrics()
    metrics.set_channel_reachable("telegram", False)  # before the runner knows it: ignored
    assert "telegram" not in metrics.health()["channels"]
    metrics.set_channel_state("telegram", "running")
    metrics.set_channel_state("bluesky", "running")
    metrics.set_channel_reachable("telegram", False, error="NetworkError: refused")
    doc = metrics.health()
    assert doc["status"] == "degraded"
    assert doc["channels"]["telegram"]["state"] == "reconnecting"
    assert doc["channels"]["telegram"]["restarts"] == 0
    assert doc["channels"]["telegram"]["last_error"] == "NetworkError: refused"
    metrics.set_channel_reachable("telegram", True)
    assert metrics.health()["status"] == "ok"
    metrics.set_channel_state("bluesky", "stopped")
    metrics.set_channel_reachable("bluesky", True)  # the runner's states win
    assert metrics.health()["channels"]["bluesky"]["state"] == "stopped"


def test_loopback_detection() -> None:
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("127.3.2.1")
    assert not _is_loopback("10.0.0.5") and not _is_loopback(None) and not _is_loopback("x")


async def test_server_reports_channels_kb_and_metrics() -> None:
    metrics = Metrics()
    metrics.set_knowledge("abc123", 18)
    metrics.set_channel_state("telegram", "running")
    metrics.set_channel_state("bluesky", "restarting", error="TimeoutError")
    server = HealthServer("127.0.0.1", 0, metrics=metrics)
    port = await server.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
                doc = await resp.json()
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"].startswith("text/plain")
                samples = parse_prometheus(await resp.text())
            async with http.post(f"http://127.0.0.1:{port}/admin/reload") as resp:
                assert resp.status == 404  # no reloader given
            metrics.set_channel_state("telegram", "failed")
            metrics.set_channel_state("bluesky", "failed")
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 503
    finally:
        await server.stop()
    assert doc["status"] == "degraded"
    assert doc["knowledge"] == {"version": "abc123", "topics": 18}
    assert doc["channels"]["telegram"]["state"] == "running"
    assert doc["channels"]["bluesky"] == {
        "state": "restarting",
        "since": doc["channels"]["bluesky"]["since"],
        "restarts": 1,
        "last_error": "TimeoutError",
    }
    assert samples['privacybot_channel_up{channel="telegram"}'] == 1
    assert samples['privacybot_channel_up{channel="bluesky"}'] == 0
    assert samples['privacybot_knowledge_info{topics="18",version="abc123"}'] == 1


async def test_reload_endpoint_answers_200_or_422() -> None:
    results = [ReloadResult(True, "new"), ReloadResult(False, "old", ["x.yaml: t: f: bad"])]

    async def reload() -> ReloadResult:
        return results.pop(0)

    server = HealthServer(
        "127.0.0.1", 0, metrics=Metrics(), reload=reload, token="t0ken", reload_interval=0
    )
    port = await server.start()
    auth = {"Authorization": "Bearer t0ken"}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            url = f"http://127.0.0.1:{port}/admin/reload"
            async with http.post(url, json={}, headers=auth) as resp:
                assert (resp.status, await resp.json()) == (
                    200,
                    {"ok": True, "version": "new", "problems": []},
                )
            async with http.post(url, json={}, headers=auth) as resp:
                assert resp.status == 422
                assert (await resp.json())["problems"] == ["x.yaml: t: f: bad"]
            async with http.get(url) as resp:
                assert resp.status == 405
    finally:
        await server.stop()


async def test_port_in_use_is_an_os_error() -> None:
    first = HealthServer("127.0.0.1", 0, metrics=Metrics())
    port = await first.start()
    try:
        with pytest.raises(OSError):
            await HealthServer("127.0.0.1", port, metrics=Metrics()).start()
    finally:
        await first.stop()
