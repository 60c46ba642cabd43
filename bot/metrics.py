"""Process metrics and channel states, for ``/metrics``, ``/healthz`` and the logs.

Adapters call three functions and nothing else:

* :func:`record_answer` after each reply the core built (it also writes the one
  log line per answered message: channel, topic, confidence, language, latency,
  never the text);
* :func:`record_rate_limited` when the platform answered 429 / RetryAfter;
* :func:`record_error` when handling one update failed;
* :func:`set_channel_reachable` when its server stops or starts answering:
  both adapters retry a lost server inside ``run()`` (the runner never sees a
  failure), so only they can tell ``/healthz`` that the channel, though
  running, is ``reconnecting``.

The runner keeps :func:`set_channel_state` up to date. Everything lives in a
module-level :class:`Metrics` (``bot.metrics.METRICS``); tests build their own
or call :meth:`Metrics.reset`. The Prometheus text format is written by hand:
it is a few lines, and it spares a dependency.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

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
        restarts: How many times the runner restarted it.
        last_error: Type and (redacted) message of the last failure.
    """

    state: str = "starting"
    since: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    restarts: int = 0
    last_error: str | None = None


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    inner = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + inner + "}"


class Metrics:
    """Counters, a latency histogram and channel states for one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything (tests)."""
        with self._lock:
            self.started = time.time()
            self.messages: dict[str, int] = defaultdict(int)
            self.answers: dict[tuple[str, str, str, str], int] = defaultdict(int)
            self.fallbacks: dict[tuple[str, str], int] = defaultdict(int)
            self.rate_limited: dict[str, int] = defaultdict(int)
            self.errors: dict[tuple[str, str], int] = defaultdict(int)
            self.reloads: dict[str, int] = defaultdict(int)
            self.buckets: dict[str, list[int]] = {}
            self.latency_sum: dict[str, float] = defaultdict(float)
            self.latency_count: dict[str, int] = defaultdict(int)
            self.channels: dict[str, ChannelStatus] = {}
            self.kb_version: str | None = None
            self.kb_topics = 0

    # -- adapters -----------------------------------------------------------

    def record_message(self, channel: str) -> None:
        """Count a message handled without a core answer (a command such as /forget)."""
        with self._lock:
            self.messages[channel] += 1

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
        with self._lock:
            self.messages[channel] += 1
            self.answers[(channel, kind, topic, language)] += 1
            if kind == "fallback":
                self.fallbacks[(channel, language)] += 1
            if latency_ms is not None:
                seconds = latency_ms / 1000.0
                counts = self.buckets.setdefault(channel, [0] * len(LATENCY_BUCKETS))
                for i, bound in enumerate(LATENCY_BUCKETS):
                    if seconds <= bound:
                        counts[i] += 1
                self.latency_sum[channel] += seconds
                self.latency_count[channel] += 1
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
        with self._lock:
            self.rate_limited[channel] += 1
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
        with self._lock:
            self.errors[(channel, kind)] += 1

    # -- runner ---------------------------------------------------------------

    def set_channel_state(self, channel: str, state: str, *, error: str | None = None) -> None:
        """Record a channel's state for ``/healthz`` (the runner calls this).

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
        what the runner recorded (``restarting``, ``failed``, ``stopped``) wins
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
        with self._lock:
            self.reloads["ok" if ok else "refused"] += 1

    # -- output ---------------------------------------------------------------

    def render(self) -> str:
        """The metrics in the Prometheus text exposition format (version 0.0.4)."""
        out: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")

        def sample(name: str, names: tuple[str, ...], values: tuple[str, ...], v: float) -> None:
            number = repr(float(v)) if isinstance(v, float) else str(v)
            out.append(f"{name}{_labels(names, values)} {number}")

        with self._lock:
            family("privacybot_messages_total", "counter", "Messages handled, by channel.")
            for ch, n in sorted(self.messages.items()):
                sample("privacybot_messages_total", ("channel",), (ch,), n)
            family(
                "privacybot_answers_total",
                "counter",
                "Replies by channel, kind (answer/clarify/fallback), topic and language.",
            )
            for key, n in sorted(self.answers.items()):
                sample("privacybot_answers_total", ("channel", "kind", "topic", "language"), key, n)
            family("privacybot_fallbacks_total", "counter", "Questions the bot could not answer.")
            for key, n in sorted(self.fallbacks.items()):
                sample("privacybot_fallbacks_total", ("channel", "language"), key, n)
            family("privacybot_answer_latency_seconds", "histogram", "Time to answer a message.")
            for ch in sorted(self.buckets):
                for bound, n in zip(LATENCY_BUCKETS, self.buckets[ch], strict=True):
                    sample(
                        "privacybot_answer_latency_seconds_bucket",
                        ("channel", "le"),
                        (ch, repr(bound)),
                        n,
                    )
                sample(
                    "privacybot_answer_latency_seconds_bucket",
                    ("channel", "le"),
                    (ch, "+Inf"),
                    self.latency_count[ch],
                )
                sample(
                    "privacybot_answer_latency_seconds_sum",
                    ("channel",),
                    (ch,),
                    float(self.latency_sum[ch]),
                )
                sample(
                    "privacybot_answer_latency_seconds_count",
                    ("channel",),
                    (ch,),
                    self.latency_count[ch],
                )
            family("privacybot_rate_limited_total", "counter", "429 / flood-wait answers received.")
            for ch, n in sorted(self.rate_limited.items()):
                sample("privacybot_rate_limited_total", ("channel",), (ch,), n)
            family("privacybot_errors_total", "counter", "Failures handling updates.")
            for key, n in sorted(self.errors.items()):
                sample("privacybot_errors_total", ("channel", "kind"), key, n)
            family("privacybot_channel_up", "gauge", "1 while a channel is running.")
            family("privacybot_channel_restarts_total", "counter", "Channel restarts.")
            for ch, st in sorted(self.channels.items()):
                sample("privacybot_channel_up", ("channel",), (ch,), int(st.state == "running"))
                sample("privacybot_channel_restarts_total", ("channel",), (ch,), st.restarts)
            family(
                "privacybot_channel_standby",
                "gauge",
                "1 while another replica runs this channel (healthy; see bot.leader).",
            )
            for ch, st in sorted(self.channels.items()):
                standby = int(st.state == "standby")
                sample("privacybot_channel_standby", ("channel",), (ch,), standby)
            family("privacybot_knowledge_info", "gauge", "The knowledge base in use.")
            if self.kb_version is not None:
                sample(
                    "privacybot_knowledge_info",
                    ("version", "topics"),
                    (self.kb_version, str(self.kb_topics)),
                    1,
                )
            family("privacybot_knowledge_reloads_total", "counter", "Knowledge base reloads.")
            for result, n in sorted(self.reloads.items()):
                sample("privacybot_knowledge_reloads_total", ("result",), (result,), n)
            family("privacybot_start_time_seconds", "gauge", "Process start (unix time).")
            sample("privacybot_start_time_seconds", (), (), float(self.started))
        return "\n".join(out) + "\n"

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


METRICS = Metrics()
"""The process-wide metrics."""

_CURRENT: contextvars.ContextVar[Metrics] = contextvars.ContextVar("metrics", default=METRICS)


def current() -> Metrics:
    """The metrics the module functions below write to: :data:`METRICS`, or the one
    :func:`bot.runner.run_channels` was given (through :func:`use`), so that what an
    adapter reports lands where the runner's ``/healthz`` reads."""
    return _CURRENT.get()


def use(metrics: Metrics) -> contextvars.Token[Metrics]:
    """Route the module functions to ``metrics`` in this task and those it creates."""
    return _CURRENT.set(metrics)


def reset(token: contextvars.Token[Metrics]) -> None:
    """Undo :func:`use`."""
    _CURRENT.reset(token)


def record_message(channel: str) -> None:
    """Count a message handled without a core answer (see :meth:`Metrics.record_message`)."""
    current().record_message(channel)


def record_answer(channel: str, answer: Any, *, latency_ms: float | None = None) -> None:
    """Count and log one answered message (see :meth:`Metrics.record_answer`)."""
    current().record_answer(channel, answer, latency_ms=latency_ms)


def record_rate_limited(channel: str, retry_after: float | None = None) -> None:
    """Count a 429 / flood-wait (see :meth:`Metrics.record_rate_limited`)."""
    current().record_rate_limited(channel, retry_after)


def record_error(channel: str, kind: str = "update") -> None:
    """Count a failure handling one update (see :meth:`Metrics.record_error`)."""
    current().record_error(channel, kind)


def set_channel_state(channel: str, state: str, *, error: str | None = None) -> None:
    """Record a channel's state (see :meth:`Metrics.set_channel_state`)."""
    current().set_channel_state(channel, state, error=error)


def set_channel_reachable(channel: str, reachable: bool, *, error: str | None = None) -> None:
    """Report whether a channel's server answers (see :meth:`Metrics.set_channel_reachable`)."""
    current().set_channel_reachable(channel, reachable, error=error)
