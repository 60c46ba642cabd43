"""Failover bench: three replicas on one PostgreSQL, the Bluesky leader killed again and again.

    BSKY_STACK_DIR=... python bench/replicas_failover.py [--kills 5] [--mentions 8] [--messages 10]

Starts a throwaway PostgreSQL (the tests' :class:`store_fixtures.PostgresCluster`),
reuses (or starts) the local Bluesky stack named by ``BSKY_STACK_DIR``, the fake
Bot API, and three real ``python -m bot run telegram bluesky`` replicas in
webhook mode behind a round-robin proxy (``tests/test_replicas.py``'s
harness). Each round, people post mentions and Telegram messages while the
current leader is killed with SIGKILL once it has answered a few; the killed
replica is started again, so three run at all times. It reports:

* takeover time (SIGKILL to exactly one new leader in ``/healthz``), p50 and max;
* mentions answered twice or never (from the bot's own repository on the PDS);
* Telegram messages answered twice or never (from the fake Bot API);
* Bluesky requests per 5 minutes across all replicas: the shared, persisted
  count the leaders keep, and the peak 5-minute count of the requests the PDS
  really received (through a counting proxy); and the bench's duration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _paths import use_repo_and_tests

REPO = use_repo_and_tests()

from fakes.bot_api import FakeTelegram  # noqa: E402
from store_fixtures import PostgresCluster  # noqa: E402
from telegram_fixtures import TOKEN  # noqa: E402
from test_bluesky_resilience import PdsProxy  # noqa: E402
from test_replicas import (  # noqa: E402
    PW,
    RENDER,
    ReplicaSet,
    expected,
    own_replies,
)

from bot.adapters.bluesky import REQUESTS_KEY  # noqa: E402


class CountingProxy(PdsProxy):
    """The PDS as the replicas see it, counting every request they make."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.times: list[float] = []

    async def _forward(self, request: Any) -> Any:
        self.times.append(time.time())
        return await super()._forward(request)


async def _until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


async def bench(kills: int, mentions_per_round: int, messages_per_round: int) -> dict[str, Any]:
    import asyncpg  # type: ignore[import-untyped]

    from tests.bluesky_stack import stack

    stack.start_stack(timeout=300)
    base = Path(tempfile.mkdtemp(prefix="pb-replicas-"))
    cluster = PostgresCluster(base)
    cluster.start()
    name = "b_" + uuid.uuid4().hex[:10]
    admin = await asyncpg.connect(cluster.url())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    sfx = secrets.token_hex(3)
    bot = await asyncio.to_thread(stack.create_account, f"fb{sfx}.test", PW)
    alice = await asyncio.to_thread(stack.create_account, f"fa{sfx}.test", PW)
    question, reply = await expected()
    per_answer = sum(map(len, RENDER.render(reply)))
    tg = await FakeTelegram(TOKEN).start()
    pds = CountingProxy(stack.current().pds_url)
    pds.start()
    world = ReplicaSet(base, cluster.url(name), tg, pds.url, bot.handle, PW)
    mentions: list[str] = []
    users: list[int] = []
    takeovers: list[float] = []
    started = time.monotonic()

    async def post_mentions(n: int) -> None:
        for _ in range(n):
            created = await asyncio.to_thread(
                stack.post_mention, alice.client, bot, f" {question}", langs=["en"]
            )
            mentions.append(created.uri)
            await asyncio.sleep(0.1)

    async def write_telegram(n: int) -> None:
        for _ in range(n):
            user = FakeTelegram.user(20000 + len(users), "Ann", "en")
            users.append(user["id"])
            await tg.send_text(user, question)
            await asyncio.sleep(0.05)

    try:
        await world.start()
        leader = await world.wait_leader(60)
        await tg.wait_for(lambda: tg.webhook.get("url"), 30)
        for round_ in range(kills):
            before = leader.answered()
            burst = asyncio.gather(
                post_mentions(mentions_per_round), write_telegram(messages_per_round)
            )
            await _until(lambda r=leader, b=before: r.answered() >= b + 2, 60, "answers")
            assert leader.proc is not None
            leader.proc.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            successor = await world.wait_leader(30, step=0.02)
            takeovers.append(time.monotonic() - killed)
            print(f"kill {round_ + 1}: takeover {takeovers[-1]:.2f}s", file=sys.stderr)
            leader.proc.wait(timeout=10)
            await burst
            world.launch(leader)  # back to three replicas
            leader = successor
            await world.wait_leader(60)
        deadline = time.monotonic() + 120
        while True:
            counts = await asyncio.to_thread(own_replies, stack, bot.handle, PW)
            if all(counts.get(u) for u in mentions) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        for user_id in users:
            with contextlib.suppress(TimeoutError):  # counted as missing below
                await tg.wait_messages(
                    user_id, per_answer, timeout=max(1.0, deadline - time.monotonic())
                )
        await asyncio.sleep(2.0)  # let a duplicate, if any, show up
        counts = await asyncio.to_thread(own_replies, stack, bot.handle, PW)
        conn = await asyncpg.connect(cluster.url(name))
        raw = await conn.fetchval("SELECT value FROM channel_state WHERE key = $1", REQUESTS_KEY)
        await conn.close()
        now = time.time()
        window = {int(k): int(v) for k, v in json.loads(raw or "{}").items()}
        requests_5min = sum(v for k, v in window.items() if k > now - 300)
        seen = sorted(pds.times)
        peak_5min = max(
            (sum(1 for t in seen[i:] if t < start + 300) for i, start in enumerate(seen)),
            default=0,
        )
        tg_counts = [len(tg.chat(u)) for u in users]
        return {
            "kills": kills,
            "takeover_s": {
                "p50": round(statistics.median(takeovers), 2),
                "max": round(max(takeovers), 2),
                "all": [round(t, 2) for t in takeovers],
            },
            "mentions": len(mentions),
            "mentions_duplicated": sum(1 for u in mentions if counts.get(u, 0) > 1),
            "mentions_missing": sum(1 for u in mentions if not counts.get(u)),
            "telegram_messages": len(users),
            "telegram_duplicated": sum(1 for n in tg_counts if n > per_answer),
            "telegram_missing": sum(1 for n in tg_counts if n < per_answer),
            "telegram_429s": tg.flood_429s,
            "bluesky_requests_5min_counted_by_replicas": requests_5min,
            "bluesky_requests_5min_seen_by_pds_peak": peak_5min,
            "bluesky_requests_total_seen_by_pds": len(seen),
            "duration_s": round(time.monotonic() - started, 1),
        }
    finally:
        await world.stop()
        await tg.stop()
        pds.close()
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--mentions", type=int, default=8, help="mentions per round")
    parser.add_argument("--messages", type=int, default=10, help="Telegram messages per round")
    args = parser.parse_args()
    result = asyncio.run(bench(args.kills, args.mentions, args.messages))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
