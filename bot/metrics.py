"""Process metrics and channel states, for ``/metrics``, ``/healthz`` and the logs.

One :class:`Metrics` object per process (tests build their own) holds
``prometheus_client`` metrics registered on a :class:`CollectorRegistry` passed
in, so two objects never share samples. Adapters call, on the object their
:class:`bot.channel.ChannelContext` carries:

* :meth:`Metrics.record_answer` after each reply the core built (it also writes
  the one log line per answered message: channel, topic, confidence, language,
  latency, never the text);
* :meth:`Metrics.record_rate_limited` when the platform answered 429 / RetryAfter;
* :meth:`Metrics.record_error` when handling one update failed;
* :meth:`Metrics.set_channel_reachable` when its server stops or starts
  answering: both adapters retry a lost server inside ``run()`` (the application
  never sees a failure), so only they can tell ``/healthz`` that the channel,
  though running, is ``reconnecting``.

The application keeps :meth:`Metrics.set_channel_state` up to date. The metric names,
types and labels are those of the hand-written exposition this replaced, so
dashboards keep working; the ``*_created`` series prometheus_client adds are left
out of :meth:`Metrics.render` for the same reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("bot.answers")

LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Upper bounds (seconds) of the answer latency histogram."""

CHANNEL_STATES = (
    "starting",
    "running",
    "standby",
    "reconnecting",
    "restarting",
    "failed",
    "stopped",
)
"""``standby``: another replica runs this channel (:mod:`bot.leader`); healthy."""


@dataclass(slots=True)
class ChannelStatus:
    """What ``/healthz`` says about one channel.

    Attributes:
        state: One of :data:`CHANNEL_STATES`.
        since: When it entered that state (UTC).
        restarts: How many times the application restarted it.
        last_error: Type and (redacted) message of the last failure.
    """

    state: str = "starting"
    since: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    restarts: int = 0
    last_error: str | None = None


class _StateCollector(Collector):
    """Channel states and the knowledge base, exported from :class:`Metrics`' own records.

    They are kept as plain records because ``/healthz`` needs more than numbers
    (since when, the last error); this collector turns them into samples at
    scrape time rather than mirroring them into gauges.
    """

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._metrics
        with m._lock:
            channels = sorted((name, st.state, st.restarts) for name, st in m.channels.items())
            version, topics = m.kb_version, m.kb_topics
        up = GaugeMetricFamily(
            "privacybot_channel_up", "1 while a channel is running.", labels=["channel"]
        )
        restarts = CounterMetricFamily(
            "privacybot_channel_restarts", "Channel restarts.", labels=["channel"]
        )
        standby = GaugeMetricFamily(
            "privacybot_channel_standby",
            "1 while another replica runs this channel (healthy; see bot.leader).",
            labels=["channel"],
        )
        for name, state, count in channels:
            up.add_metric([name], int(state == "running"))
            restarts.add_metric([name], count)
            standby.add_metric([name], int(state == "standby"))
        knowledge = GaugeMetricFamily(
            "privacybot_knowledge_info", "The knowledge base in use.", labels=["version", "topics"]
        )
        if version is not None:
            knowledge.add_metric([version, str(topics)], 1)
        yield from (up, restarts, standby, knowledge)


class _WithoutCreated(Collector):
    """A registry's metrics minus the ``*_created`` samples (not in the old exposition)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        for metric in self._registry.collect():
            metric.samples = [s for s in metric.samples if not s.name.endswith("_created")]
            yield metric


class Metrics:
    """Counters, a latency histogram and channel states for one process.

    Args:
        registry: Where the metrics are registered; a new one when None, so
            that each :class:`Metrics` (each test) has its own samples.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._lock = threading.Lock()
        self._collectors: list[Collector] = []
        self.reset()

    def reset(self) -> None:
        """Forget everything (tests): the metrics are registered afresh."""
        with self._lock:
            for collector in self._collectors:
                self.registry.unregister(collector)
            self.started = time.time()
            self.channels: dict[str, ChannelStatus] = {}
            self.kb_version: str | None = None
            self.kb_topics = 0
        r = self.registry
        # Registered in the order the families are rendered.
        self._messages = Counter(
            "privacybot_messages", "Messages handled, by channel.", ["channel"], registry=r
        )
        self._answers = Counter(
            "privacybot_answers",
            "Replies by channel, kind (answer/clarify/fallback), topic and language.",
            ["channel", "kind", "topic", "language"],
            registry=r,
        )
        self._fallbacks = Counter(
            "privacybot_fallbacks",
            "Questions the bot could not answer.",
            ["channel", "language"],
            registry=r,
        )
        self._latency = Histogram(
            "privacybot_answer_latency_seconds",
            "Time to answer a message.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._rate_limited = Counter(
            "privacybot_rate_limited",
            "429 / flood-wait answers received.",
            ["channel"],
            registry=r,
        )
        self._errors = Counter(
            "privacybot_errors", "Failures handling updates.", ["channel", "kind"], registry=r
        )
        states = _StateCollector(self)
        r.register(states)
        self._reloads = Counter(
            "privacybot_knowledge_reloads", "Knowledge base reloads.", ["result"], registry=r
        )
        start = Gauge("privacybot_start_time_seconds", "Process start (unix time).", registry=r)
        start.set(self.started)
        self._collectors = [
            self._messages,
            self._answers,
            self._fallbacks,
            self._latency,
            self._rate_limited,
            self._errors,
            states,
            self._reloads,
            start,
        ]

    # -- adapters -----------------------------------------------------------

    def record_message(self, channel: str) -> None:
        """Count a message handled without a core answer (a command such as /forget)."""
        self._messages.labels(channel).inc()

    def record_answer(self, channel: str, answer: Any, *, latency_ms: float | None = None) -> None:
        """Count one answered message, observe its latency and log one line.

        Args:
            channel: ``telegram``, ``bluesky``...
            answer: The :class:`bot.core.Answer` from ``core.respond`` (a bare
                :class:`bot.messages.Reply` is accepted too).
            latency_ms: End-to-end latency measured by the adapter; the core's
                own ``answer.latency_ms`` when None.
        """
        reply = getattr(answer, "reply", answer)
        if latency_ms is None:
            latency_ms = getattr(answer, "latency_ms", None)
        topic = reply.topic_id or "none"
        kind, language = reply.kind, reply.language
        self._messages.labels(channel).inc()
        self._answers.labels(channel, kind, topic, language).inc()
        if kind == "fallback":
            self._fallbacks.labels(channel, language).inc()
        if latency_ms is not None:
            self._latency.labels(channel).observe(latency_ms / 1000.0)
        log.info(
            "answered",
            extra={
                "event": "answer",
                "channel": channel,
                "kind": kind,
                "topic": topic,
                "confidence": reply.confidence,
                "language": language,
                "latency_ms": None if latency_ms is None else round(latency_ms, 1),
            },
        )

    def record_rate_limited(self, channel: str, retry_after: float | None = None) -> None:
        """Count a 429 / flood-wait answered by the platform.

        Args:
            channel: The channel that was throttled.
            retry_after: Seconds the platform asked to wait, if it said.
        """
        self._rate_limited.labels(channel).inc()
        logging.getLogger("bot.channels").warning(
            "rate limited",
            extra={"event": "rate_limited", "channel": channel, "retry_after": retry_after},
        )

    def record_error(self, channel: str, kind: str = "update") -> None:
        """Count a failure handling one update (the adapter logs the details).

        Args:
            channel: The channel.
            kind: A short, fixed word (``update``, ``send``, ``poll``...), never
                a message: it becomes a metric label.
        """
        self._errors.labels(channel, kind).inc()

    # -- application -------------------------------------------------------------

    def set_channel_state(self, channel: str, state: str, *, error: str | None = None) -> None:
        """Record a channel's state for ``/healthz`` (the application calls this).

        Args:
            channel: The channel.
            state: One of :data:`CHANNEL_STATES`.
            error: What failed, already redacted, when ``state`` is
                ``restarting`` or ``failed``.
        """
        if state not in CHANNEL_STATES:
            raise ValueError(f"unknown channel state {state!r}")
        with self._lock:
            status = self.channels.setdefault(channel, ChannelStatus())
            if state == "restarting":
                status.restarts += 1
            if error is not None:
                status.last_error = error
            status.state = state
            status.since = dt.datetime.now(dt.UTC)

    def set_channel_reachable(
        self, channel: str, reachable: bool, *, error: str | None = None
    ) -> None:
        """Switch a running channel between ``running`` and ``reconnecting``.

        A ``starting`` channel becomes ``running`` at its first successful call
        (a failed one leaves it ``starting`` and records the error). Otherwise
        what the application recorded (``restarting``, ``failed``, ``stopped``) wins
        over what the adapter sees.

        Args:
            channel: The channel.
            reachable: Whether its server answered the last request.
            error: Why it did not (type and short message, no secrets).
        """
        state = "running" if reachable else "reconnecting"
        with self._lock:
            status = self.channels.get(channel)
            if status is None or status.state not in ("starting", "running", "reconnecting"):
                return
            if error is not None:
                status.last_error = error
            if status.state == "starting" and not reachable:
                return
            if status.state != state:
                status.state = state
                status.since = dt.datetime.now(dt.UTC)

    def set_knowledge(self, version: str, topics: int) -> None:
        """Record the knowledge base in use."""
        with self._lock:
            self.kb_version, self.kb_topics = version, topics

    def record_reload(self, ok: bool) -> None:
        """Count a knowledge base reload, accepted or refused."""
        self._reloads.labels("ok" if ok else "refused").inc()

    # -- output ---------------------------------------------------------------

    def render(self) -> str:
        """The metrics in the Prometheus text exposition format (version 0.0.4)."""
        return generate_latest(_WithoutCreated(self.registry)).decode("utf-8")

    def sample(self, name: str, **labels: str) -> float | None:
        """One sample's value, None when it was never recorded (tests, ``bench/``).

        Args:
            name: The sample's name (``privacybot_messages_total``).
            **labels: All its labels (``channel="telegram"``).
        """
        return self.registry.get_sample_value(name, labels)

    def health(self) -> dict[str, Any]:
        """The ``/healthz`` document: overall status, channels and knowledge base."""
        with self._lock:
            channels = {
                name: {
                    "state": st.state,
                    "since": st.since.isoformat(timespec="seconds"),
                    "restarts": st.restarts,
                    "last_error": st.last_error,
                }
                for name, st in sorted(self.channels.items())
            }
            states = [st.state for st in self.channels.values()]
            kb = {"version": self.kb_version, "topics": self.kb_topics}
        if states and all(s in ("running", "standby") for s in states):
            status = "ok"
        elif any(s in ("running", "standby") for s in states):
            status = "degraded"
        elif states and all(s in ("starting",) for s in states):
            status = "starting"
        else:
            status = "down"
        return {
            "status": status,
            "uptime_seconds": round(time.time() - self.started, 1),
            "knowledge": kb,
            "channels": channels,
        }
