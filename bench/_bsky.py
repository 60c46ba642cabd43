"""Shared helpers for the Bluesky benches (viral burst, soak) on the REAL local stack.

The benches run for minutes, so by default they use their own stack (state dir
``/tmp/pb-bsky-bench``, ports 2782-2789, PostgreSQL 55732): a test run on the
fixtures' stack (2682-2689) cannot stop it under them, and they cannot stop the
tests' stack. ``--stack tests`` uses the fixtures' stack instead.

What the benches measure from outside the bot:

* replies come from the bot's own repository (``com.atproto.repo.listRecords``
  on the PDS, authoritative and without AppView lag); their record keys are
  TIDs, so sorting by key gives the order the bot created them;
* the mentions' ``indexedAt`` comes from the AppView (``getPosts``), which is the
  order the bot sees them in ``listNotifications``;
* memory is the bot process's ``VmRSS``/``VmHWM`` in ``/proc``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _paths import use_repo_and_tests

REPO = use_repo_and_tests()

from bluesky_fixtures import STACK_ENV, stack_env  # noqa: E402

BENCH_STACK_ENV = {
    "BSKY_STACK_DIR": os.environ.get("PB_BSKY_BENCH_DIR", "/tmp/pb-bsky-bench"),
    "BSKY_PG_PORT": "55732",
    "BSKY_PLC_PORT": "2782",
    "BSKY_PDS_PORT": "2783",
    "BSKY_APPVIEW_PORT": "2784",
    "BSKY_OZONE_PORT": "2787",
    "BSKY_CTRL_PORT": "2789",
}

QUESTIONS = [
    (" how do I stop Grok training?", ["en"]),
    (" comment empêcher grok de s'entraîner sur mes posts ?", ["fr"]),
    (" stop grok from training on my posts please", ["en"]),
]


def bench_stack_env(which: str = "bench") -> contextlib.AbstractContextManager[None]:
    """Point ``tests/bluesky_stack`` at the bench's (or the tests') ports and state dir."""
    return stack_env(BENCH_STACK_ENV if which == "bench" else STACK_ENV)


def create_accounts(stack: Any, tag: str, count: int, password: str) -> tuple[Any, list[Any]]:
    """Create the bot account ``<tag><suffix>.test`` and ``count`` users, 8 at a time.

    A random suffix keeps handles unique on a stack reused across runs.
    """
    suffix = secrets.token_hex(2)
    bot = stack.create_account(f"{tag}{suffix}.test", password)
    with ThreadPoolExecutor(8) as pool:
        users = list(
            pool.map(
                lambda i: stack.create_account(f"{tag[0]}{i}u{suffix}.test", password),
                range(count),
            )
        )
    return bot, users


def ts(value: str) -> float:
    """Epoch seconds of an atproto datetime."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def proc_kib(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` field in KiB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class RssSampler:
    """Samples a process's RSS (MiB) every ``every`` seconds in a thread."""

    pid: int
    every: float = 1.0
    samples: list[tuple[float, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> RssSampler:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        t0 = time.monotonic()
        while not self._stop.wait(self.every):
            kib = proc_kib(self.pid, "VmRSS")
            if kib:
                self.samples.append((time.monotonic() - t0, kib / 1024))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def summary(self) -> dict[str, float]:
        values = [v for _, v in self.samples] or [0.0]
        return {
            "bot_rss_start_mib": round(values[0], 1),
            "bot_rss_peak_mib": round(max(values), 1),
            "bot_rss_end_mib": round(values[-1], 1),
        }


def bot_replies(client: Any, did: str) -> list[dict[str, Any]]:
    """Every post in the bot's repository: rkey (TID), parent URI, createdAt."""
    out: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):  # 100 per page: bounded at 100,000 posts
        params: dict[str, Any] = {
            "repo": did,
            "collection": "app.bsky.feed.post",
            "limit": 100,
            "reverse": True,
        }
        if cursor:
            params["cursor"] = cursor
        page = client.com.atproto.repo.list_records(params=params)
        for rec in page.records:
            value = rec.value
            reply = getattr(value, "reply", None)
            out.append(
                {
                    "uri": rec.uri,
                    "rkey": rec.uri.rsplit("/", 1)[1],
                    "parent": reply.parent.uri if reply is not None else None,
                    "root": reply.root.uri if reply is not None else None,
                    "created_at": ts(value.created_at),
                }
            )
        cursor = page.cursor
        if not cursor or not page.records:
            break
    out.sort(key=lambda r: r["rkey"])
    return out


def indexed_at(client: Any, uris: list[str]) -> dict[str, tuple[float, float]]:
    """``uri -> (indexedAt, createdAt)`` for posts, as the AppView reports them."""
    out: dict[str, tuple[float, float]] = {}
    for start in range(0, len(uris), 25):
        for post in client.get_posts(uris[start : start + 25]).posts:
            out[post.uri] = (ts(post.indexed_at), ts(post.record.created_at))
    return out


def stats_lines(log: str) -> list[dict[str, Any]]:
    """The bot's periodic ``bluesky: {...}`` stats lines (and the final one)."""
    out = []
    for raw in re.findall(r"bluesky: (?:stopped )?(\{\"answered\".*\})", log):
        with contextlib.suppress(ValueError):
            out.append(json.loads(raw))
    return out


def age_write_budget(db: Path, minutes: int) -> dict[str, int]:
    """Move the bot's persisted write-points buckets ``minutes`` into the past.

    This is what ``minutes`` passing looks like to the bot's budget (and only to
    it); used with the bot stopped, to show the queue resuming without waiting
    an hour of wall-clock time.
    """
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT value FROM channel_state WHERE key = 'bluesky.write_budget'"
        ).fetchone()
        buckets = {int(k): int(v) for k, v in json.loads(row[0]).items()} if row else {}
        moved = {str(k - minutes): v for k, v in buckets.items()}
        conn.execute(
            "UPDATE channel_state SET value = ? WHERE key = 'bluesky.write_budget'",
            (json.dumps(moved),),
        )
        conn.commit()
    finally:
        conn.close()
    return {k: v for k, v in moved.items()}
