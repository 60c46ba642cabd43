"""Metrics on prometheus_client: one registry per object, the old names and labels exactly."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics

pytestmark = pytest.mark.timeout(30)

# What dashboards and alerts read (the hand-written exposition's families, in its order):
# name, type, help text.
FAMILIES = [
    ("privacybot_messages_total", "counter", "Messages handled, by channel."),
    (
        "privacybot_answers_total",
        "counter",
        "Replies by channel, kind (answer/clarify/fallback), topic and language.",
    ),
    ("privacybot_fallbacks_total", "counter", "Questions the bot could not answer."),
    ("privacybot_answer_latency_seconds", "histogram", "Time to answer a message."),
    ("privacybot_rate_limited_total", "counter", "429 / flood-wait answers received."),
    ("privacybot_errors_total", "counter", "Failures handling updates."),
    ("privacybot_channel_up", "gauge", "1 while a channel is running."),
    ("privacybot_channel_restarts_total", "counter", "Channel restarts."),
    (
        "privacybot_channel_standby",
        "gauge",
        "1 while another replica runs this channel (healthy; see bot.leader).",
    ),
    ("privacybot_knowledge_info", "gauge", "The knowledge base in use."),
    ("privacybot_knowledge_reloads_total", "counter", "Knowledge base reloads."),
    ("privacybot_start_time_seconds", "gauge", "Process start (unix time)."),
]

# Every sample name with its label names.
SAMPLES = {
    ("privacybot_messages_total", ("channel",)),
    ("privacybot_answers_total", ("channel", "kind", "language", "topic")),
    ("privacybot_fallbacks_total", ("channel", "language")),
    ("privacybot_answer_latency_seconds_bucket", ("channel", "le")),
    ("privacybot_answer_latency_seconds_sum", ("channel",)),
    ("privacybot_answer_latency_seconds_count", ("channel",)),
    ("privacybot_rate_limited_total", ("channel",)),
    ("privacybot_errors_total", ("channel", "kind")),
    ("privacybot_channel_up", ("channel",)),
    ("privacybot_channel_restarts_total", ("channel",)),
    ("privacybot_channel_standby", ("channel",)),
    ("privacybot_knowledge_info", ("topics", "version")),
    ("privacybot_knowledge_reloads_total", ("result",)),
    ("privacybot_start_time_seconds", ()),
}

ANSWER = SimpleNamespace(topic_id="x.grok_training", kind="answer", language="en", confidence=0.9)
FALLBACK = SimpleNamespace(topic_id=None, kind="fallback", language="de", confidence=0.1)


def exercise(metrics: Metrics) -> None:
    """Call every recording method once or twice."""
    metrics.record_message("telegram")
    metrics.record_answer("telegram", ANSWER, latency_ms=12.0)
    metrics.record_answer("bluesky", FALLBACK, latency_ms=3000.0)
    metrics.record_rate_limited("telegram", 3)
    metrics.record_error("bluesky", "poll")
    metrics.set_channel_state("telegram", "running")
    metrics.set_channel_state("bluesky", "restarting", error="OSError: refused")
    metrics.set_channel_state("terminal", "standby")
    metrics.set_knowledge("abc123", 42)
    metrics.record_reload(True)
    metrics.record_reload(False)


def test_names_types_help_and_labels_are_the_old_ones() -> None:
    metrics = Metrics()
    exercise(metrics)
    text = metrics.render()
    headers = [line for line in text.splitlines() if line.startswith("# ")]
    expected = []
    for name, kind, help_text in FAMILIES:
        expected += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    assert headers == expected
    found = {
        (s.name, tuple(sorted(s.labels)))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert found == SAMPLES  # no *_created series either


def test_an_empty_exposition_still_declares_every_family() -> None:
    text = Metrics().render()
    headers = [line for line in text.splitlines() if line.startswith("# TYPE ")]
    assert headers == [f"# TYPE {name} {kind}" for name, kind, _ in FAMILIES]
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert [line.split(" ")[0] for line in samples] == ["privacybot_start_time_seconds"]


def test_two_metrics_objects_share_no_samples() -> None:
    first, second = Metrics(), Metrics()
    first.record_answer("telegram", ANSWER, latency_ms=5.0)
    first.set_channel_state("telegram", "running")
    first.record_reload(True)
    assert first.sample("privacybot_messages_total", channel="telegram") == 1
    assert second.sample("privacybot_messages_total", channel="telegram") is None
    assert second.sample("privacybot_knowledge_reloads_total", result="ok") is None
    assert 'channel="telegram"' not in second.render()
    assert second.health()["channels"] == {}


def test_a_registry_passed_in_receives_the_metrics() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry=registry)
    metrics.record_error("bluesky", "send")
    metrics.set_channel_state("bluesky", "restarting")
    assert (
        registry.get_sample_value("privacybot_errors_total", {"channel": "bluesky", "kind": "send"})
        == 1
    )
    assert (
        registry.get_sample_value("privacybot_channel_restarts_total", {"channel": "bluesky"}) == 1
    )


def test_reset_forgets_the_samples_and_keeps_one_registration() -> None:
    metrics = Metrics()
    exercise(metrics)
    metrics.reset()
    assert metrics.sample("privacybot_messages_total", channel="telegram") is None
    assert metrics.health()["channels"] == {}
    metrics.record_message("telegram")
    assert metrics.sample("privacybot_messages_total", channel="telegram") == 1
