"""Several replicas on one PostgreSQL: one Bluesky poller, failover, nothing answered twice.

The fast tests run leadership and the shared limits on a throwaway PostgreSQL
(``store_fixtures``). The slow one starts three real ``python -m bot run``
processes in Telegram webhook mode behind a round-robin proxy (what Caddy does
in ``deploy/docker-compose.yml``'s ``replicas`` profile), on one database,
against the real local Bluesky stack and the fake Bot API. People write on
both platforms while the Bluesky leader is killed with SIGKILL; a standby takes
over, and every mention and every Telegram message is answered exactly once.

:class:`ReplicaSet` and :class:`RoundRobin` are reused by ``bench/replicas_failover.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes.bot_api import SECRET_HEADER, FakeTelegram
from helpers.ports import free_port
from helpers.processes import BotProcess
from helpers.replies import answered_example
from helpers.waits import wait_for
from store_fixtures import SALT, _pg_database
from telegram_fixtures import TOKEN, bot_env

from bot.adapters.telegram import TelegramChannel
from bot.core import Core
from bot.kb.loader import default_dir, load_knowledge
from bot.leader import LeaderChannel
from bot.metrics import Metrics
from bot.ratelimit import Rate, SharedUserRateLimiter, Verdict
from bot.store.base import user_key

pytest_plugins = ["store_fixtures"]

REPO = Path(__file__).resolve().parent.parent
PW = "replica-pass-123"
SECRET = "replica-Secret_1"
TAKEOVER_LIMIT = 15.0


# --------------------------------------------------------------------------- harness


class RoundRobin:
    """The reverse proxy in front of the replicas' webhooks, as Caddy does it.

    Requests go to the replicas in turn; one that refuses the connection (a
    dead replica) is skipped at once. A replica dying mid-request gives 502, so
    Telegram sends the update again (the bot answers only handled updates).
    """

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self._turn = itertools.count()
        self._runner: Any = None
        self._session: Any = None
        self.port = 0
        self.sent_to: dict[int, int] = {}
        """The port each update was last handed to, by update id."""

    async def start(self) -> RoundRobin:
        import aiohttp
        from aiohttp import web

        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def _forward(self, request: Any) -> Any:
        import aiohttp
        from aiohttp import web

        body = await request.read()
        headers = {SECRET_HEADER: request.headers.get(SECRET_HEADER, "")}
        headers["Content-Type"] = "application/json"
        for _ in range(len(self.ports)):
            port = self.ports[next(self._turn) % len(self.ports)]
            url = f"http://127.0.0.1:{port}{request.path}"
            with contextlib.suppress(ValueError, KeyError, TypeError):
                self.sent_to[int(json.loads(body)["update_id"])] = port
            try:
                async with self._session.post(url, data=body, headers=headers) as answer:
                    return web.Response(status=answer.status, body=await answer.read())
            except aiohttp.ClientConnectorError:
                continue  # nobody listening: the next replica
            except aiohttp.ClientError:
                return web.Response(status=502)
        return web.Response(status=502)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()


class Replica(BotProcess):
    """One ``python -m bot run telegram bluesky`` process."""

    def __init__(self, index: int, tg_port: int, health_port: int, log_path: Path) -> None:
        super().__init__({}, log_path, "run", "telegram", "bluesky")
        self.index = index
        self.tg_port = tg_port
        self.health_port = health_port

    def answered(self) -> int:
        return self.log().count("bluesky: answered ")

    async def health(self) -> dict[str, Any] | None:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(f"http://127.0.0.1:{self.health_port}/healthz")).json()
        except (httpx.HTTPError, ValueError):
            return None


@dataclass
class ReplicaSet:
    """Replicas sharing one database, one Telegram bot and one Bluesky account."""

    tmp: Path
    database_url: str
    tg: FakeTelegram
    pds_url: str
    handle: str
    password: str
    count: int = 3
    replicas: list[Replica] = field(default_factory=list)
    proxy: RoundRobin | None = None

    async def start(self) -> ReplicaSet:
        ports = [free_port() for _ in range(self.count)]
        self.proxy = await RoundRobin(ports).start()
        self.tg.webhook_proxy = f"http://127.0.0.1:{self.proxy.port}"  # Caddy's TLS in front
        for index, port in enumerate(ports):
            replica = Replica(index, port, free_port(), self.tmp / f"replica{index}.log")
            self.replicas.append(replica)
            self.launch(replica)
        return self

    def env(self, replica: Replica) -> dict[str, str]:
        assert self.proxy is not None
        return bot_env(
            self.tg,
            self.tmp / f"replica{replica.index}.sqlite3",
            TELEGRAM_MODE="webhook",
            TELEGRAM_WEBHOOK_URL="https://bot.example.invalid/tg",  # Telegram posts https only
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            TELEGRAM_LISTEN="127.0.0.1",
            TELEGRAM_PORT=str(replica.tg_port),
            PRIVACYBOT_DATABASE_URL=self.database_url,
            PRIVACYBOT_SALT=SALT.decode() * 2,
            PRIVACYBOT_HEALTH_HOST="127.0.0.1",
            PRIVACYBOT_HEALTH_PORT=str(replica.health_port),
            PRIVACYBOT_LOG_FORMAT="json",
            BLUESKY_HANDLE=self.handle,
            BLUESKY_APP_PASSWORD=self.password,
            BLUESKY_SERVICE_URL=self.pds_url,
            BLUESKY_POLL_INTERVAL="0.3",
            BLUESKY_TIMEOUT="5",
        )

    def launch(self, replica: Replica) -> None:
        replica.env = self.env(replica)
        replica.start()

    def alive(self) -> list[Replica]:
        return [r for r in self.replicas if r.alive()]

    def logs(self) -> str:
        return "\n".join(f"--- replica {r.index}\n{r.log()[-3000:]}" for r in self.replicas)

    async def roles(self) -> dict[int, str]:
        """The Bluesky state each live replica reports in /healthz."""
        found: dict[int, str] = {}
        for replica in self.alive():
            doc = await replica.health()
            if doc is not None:
                found[replica.index] = doc["channels"].get("bluesky", {}).get("state", "?")
        return found

    async def wait_leader(self, timeout: float) -> Replica:
        """Wait until exactly one live replica leads and every other stands by."""
        roles: dict[int, str] = {}

        async def single_leader() -> Replica | None:
            nonlocal roles
            roles = await self.roles()
            alive = self.alive()
            leaders = [i for i, s in roles.items() if s == "running"]
            standby = [i for i, s in roles.items() if s == "standby"]
            if len(roles) == len(alive) and len(leaders) == 1 and len(standby) == len(alive) - 1:
                return self.replicas[leaders[0]]
            return None

        try:
            return await wait_for(single_leader, timeout, what="a single leader", step=0.05)
        except TimeoutError:
            detail = f"no single leader after {timeout}s: {roles}\n{self.logs()}"
            raise AssertionError(detail) from None

    async def stop(self) -> None:
        for replica in self.replicas:
            replica.stop(signal.SIGKILL, timeout=10)
        if self.proxy is not None:
            await self.proxy.stop()


def own_replies(stack: Any, handle: str, password: str) -> dict[str, int]:
    """Replies per parent post in the bot's own repository (authoritative, no AppView lag)."""
    client = stack.login(handle, password)
    counts: dict[str, int] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {
            "repo": client.me.did,
            "collection": "app.bsky.feed.post",
            "limit": 100,
        }
        if cursor:
            params["cursor"] = cursor
        page = client.com.atproto.repo.list_records(params=params)
        for record in page.records:
            reply = getattr(record.value, "reply", None)
            if reply is not None and not reply.parent.uri.startswith(f"at://{client.me.did}/"):
                counts[reply.parent.uri] = counts.get(reply.parent.uri, 0) + 1
        cursor = page.cursor
        if not cursor or not page.records:
            return counts


KB = load_knowledge(default_dir())
CORE = Core(KB)


# --------------------------------------------------------------------------- fast tests


class Inner:
    """A channel that records whether it runs."""

    name = "bluesky"

    def __init__(self) -> None:
        self.running = asyncio.Event()
        self.cancelled = False

    def again(self) -> Inner:
        """The factory of later terms: the same channel, to watch it."""
        return self

    async def run(self, stop: asyncio.Event) -> None:
        self.running.set()
        try:
            await stop.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        finally:
            self.running.clear()


async def test_one_replica_leads_and_a_standby_takes_over_when_its_connection_dies(
    request: pytest.FixtureRequest,
) -> None:
    from bot.store.postgres import PostgresStore

    url = await _pg_database(request)
    stores = [PostgresStore(url, SALT) for _ in range(2)]
    for store in stores:
        await store.open()
    inner = [Inner(), Inner()]
    metrics = [Metrics(), Metrics()]
    fast = {"poll_interval": 0.05, "heartbeat": 0.1, "heartbeat_timeout": 1.0}
    leaders = [
        LeaderChannel(
            inner[i],
            inner[i].again,
            stores[i].dedicated_connection,
            metrics=metrics[i],
            **fast,
        )
        for i in range(2)
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(leader.run(stop)) for leader in leaders]

    def state(i: int) -> str | None:
        status = metrics[i].channels.get("bluesky")
        return status.state if status else None

    try:
        await wait_for(lambda: inner[0].running.is_set() or inner[1].running.is_set(), 10)
        first = 0 if inner[0].running.is_set() else 1
        second = 1 - first
        await wait_for(lambda: state(second) == "standby", 5)
        assert not inner[second].running.is_set()
        assert metrics[second].health()["status"] == "ok"  # standby counts as healthy
        assert metrics[second].sample("privacybot_channel_standby", channel="bluesky") == 1
        assert metrics[first].sample("privacybot_channel_standby", channel="bluesky") == 0
        assert state(first) == "running"

        # The leader's lock connection dies (as when its host vanishes).
        await stores[second].pool.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'privacybot-leader' AND pid IN "
            "(SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)"
        )
        await wait_for(lambda: inner[first].cancelled, 5)  # stopped at once, not drained
        await wait_for(lambda: inner[second].running.is_set(), 5)
        assert not inner[first].running.is_set()
        await wait_for(lambda: state(first) == "standby", 5)

        # The lock's connection asks the server for short keepalives, so a vanished
        # host's lock is freed in seconds, not after the system's two hours.
        conn = await stores[0].dedicated_connection()
        try:
            assert await conn.fetchval("SHOW tcp_keepalives_idle") == "3"
            assert await conn.fetchval("SHOW tcp_keepalives_count") == "3"
        finally:
            await conn.close()
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
        for store in stores:
            await store.close()


async def test_replicas_share_one_send_pace_per_chat(request: pytest.FixtureRequest) -> None:
    from bot.store.postgres import PostgresStore

    url = await _pg_database(request)
    stores = [PostgresStore(url, SALT) for _ in range(3)]
    for store in stores:
        await store.open()
    try:
        waits = await asyncio.gather(
            *(stores[i % 3].reserve_send("tg-chat", "42", 1.0) for i in range(6))
        )
        other = await stores[0].reserve_send("tg-chat", "43", 1.0)
    finally:
        for store in stores:
            await store.close()
    waits = sorted(waits)
    assert waits[0] < 0.5
    # Six sends to one chat from three replicas: one slot per second, as one process.
    assert all(b - a > 0.9 for a, b in itertools.pairwise(waits)), waits
    assert other < 0.5  # another chat is not held up


async def test_replicas_share_the_per_person_rate_limit(request: pytest.FixtureRequest) -> None:
    from bot.store.postgres import PostgresStore

    url = await _pg_database(request)
    stores = [PostgresStore(url, SALT) for _ in range(3)]
    for store in stores:
        await store.open()
    try:
        limiters = [SharedUserRateLimiter(Rate(3, 60), store) for store in stores]
        verdicts = [await limiters[i % 3].acheck("telegram", "7") for i in range(6)]
        other = await limiters[1].acheck("telegram", "8")
        keys = [row["key"] for row in await stores[0].pool.fetch("SELECT key FROM user_rate")]
    finally:
        for store in stores:
            await store.close()
    allow, warn, drop = Verdict.ALLOW, Verdict.WARN, Verdict.DROP
    assert verdicts == [allow, allow, allow, warn, drop, drop]
    assert other is allow
    # Hashed ids only, as in the users table.
    assert sorted(keys) == sorted(user_key(SALT, "telegram", u) for u in ("7", "8"))


@pytest.fixture
async def leader_world(tmp_path: Path) -> AsyncIterator[tuple[Any, Any, Core]]:
    """A Bluesky leader's world: a fake PDS, a memory store, a core on a small knowledge base."""
    from fakes.xrpc import FakeXrpc
    from helpers.kb import write_kb

    from bot.store.memory import MemoryStore

    fake = await FakeXrpc().start()
    store = MemoryStore()
    try:
        yield fake, store, Core(load_knowledge(write_kb(tmp_path / "kb")), store)
    finally:
        await fake.stop()


async def test_write_points_are_stored_before_the_post_so_a_successor_counts_them(
    leader_world: tuple[Any, Any, Core],
) -> None:
    """A leader killed while a reply is on its way must leave the points in the store."""
    from bluesky_fixtures import fake_channel

    from bot.adapters.bluesky import BUDGET_KEY

    fake, store, core = leader_world
    fake.add_mention("how do I stop Grok training?")
    fake.faults["com.atproto.repo.createRecord"] = [("sleep", 2.0)]
    channel = fake_channel(core, fake, BLUESKY_MAX_POSTS="1")
    stop = asyncio.Event()
    task = asyncio.create_task(channel.run(stop))
    await wait_for(lambda: fake.count("com.atproto.repo.createRecord") == 1)
    # The post is on its way: what a successor would read if this leader died now.
    stored = json.loads(await store.get_value(BUDGET_KEY) or "{}")
    stop.set()
    await asyncio.wait_for(task, 10)
    assert sum(stored.values()) == 3  # the reply's write points


async def test_the_request_count_is_stored_during_a_burst_not_only_after_it(
    leader_world: tuple[Any, Any, Core],
) -> None:
    """A leader killed mid-burst must leave its successor the requests it made."""
    from bluesky_fixtures import fake_channel

    from bot.adapters.bluesky import REQUESTS_KEY

    fake, store, core = leader_world
    for i in range(3):
        fake.add_mention(f"how do I stop Grok training? {i}")
    fake.faults["com.atproto.repo.createRecord"] = [(), ("sleep", 2.0)]
    channel = fake_channel(core, fake, BLUESKY_MAX_POSTS="1")
    stop = asyncio.Event()
    task = asyncio.create_task(channel.run(stop))
    await wait_for(lambda: fake.count("com.atproto.repo.createRecord") == 2)
    names = [nsid for _, nsid in fake.calls]
    made = names.index("com.atproto.repo.createRecord") + 1  # up to the first reply
    stored = json.loads(await store.get_value(REQUESTS_KEY) or "{}")
    stop.set()
    await asyncio.wait_for(task, 10)
    assert sum(stored.values()) >= made, (stored, names)


def test_compose_replicas_profile_runs_webhook_replicas_behind_a_pinned_proxy() -> None:
    import yaml

    deploy = REPO / "deploy"
    services = yaml.safe_load((deploy / "docker-compose.yml").read_text())["services"]
    replicas = {n: s for n, s in services.items() if s.get("profiles") == ["replicas"]}
    bots = {n: s for n, s in replicas.items() if s.get("build")}
    assert len(bots) >= 2
    for service in bots.values():
        assert service["environment"]["TELEGRAM_MODE"] == "webhook"
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        assert "postgres" in service["depends_on"]
    (proxy,) = [s for s in replicas.values() if "caddy" in s.get("image", "")]
    assert re.search(r"@sha256:[0-9a-f]{64}$", proxy["image"])
    caddyfile = (deploy / "Caddyfile.replicas").read_text()
    for name, service in bots.items():
        assert f"{name}:{service['environment']['TELEGRAM_PORT']}" in caddyfile


# --------------------------------------------------------------------------- the real thing


@pytest.fixture(scope="module")
def stack() -> Any:
    if shutil.which("npm") is None:
        pytest.skip("the local Bluesky stack needs npm")
    from tests.bluesky_stack import stack as stack_module

    info = stack_module.start_stack(timeout=300)
    yield stack_module
    if not os.environ.get("PB_BSKY_KEEP") and not info.reused:
        stack_module.stop_stack()


@pytest.mark.slow
@pytest.mark.stack
@pytest.mark.timeout(180)
async def test_three_replicas_survive_the_leader_killed_mid_burst(
    stack: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = await _pg_database(request)
    sfx = secrets.token_hex(3)
    bot = await asyncio.to_thread(stack.create_account, f"rb{sfx}.test", PW)
    # Several people, as in a real burst: one person's 16 mentions would meet the
    # per-person limit and the hourly cap of posts, which Bluesky applies too.
    people = [
        await asyncio.to_thread(stack.create_account, f"r{i}{sfx}.test", PW) for i in range(4)
    ]
    question, reply = await answered_example(CORE)
    per_answer = sum(map(len, TelegramChannel.render(reply)))
    tg = await FakeTelegram(TOKEN).start()
    world = ReplicaSet(tmp_path, url, tg, stack.current().pds_url, bot.handle, PW)
    mentions: list[str] = []
    users: list[int] = []

    async def post_mentions(n: int) -> None:
        for _ in range(n):
            person = people[len(mentions) % len(people)]
            created = await asyncio.to_thread(
                stack.post_mention, person.client, bot, f" {question}", langs=["en"]
            )
            mentions.append(created.uri)
            await asyncio.sleep(0.1)  # people arrive over time, not all in one instant

    writer: dict[int, int] = {}  # update id -> user id

    async def write_telegram(n: int) -> None:
        for _ in range(n):
            user = FakeTelegram.user(9000 + len(users), "Ann", "en")
            users.append(user["id"])
            update = await tg.send_text(user, question)
            writer[update["update_id"]] = user["id"]
            await asyncio.sleep(0.05)

    try:
        await world.start()
        leader = await world.wait_leader(60)
        await tg.wait_for(lambda: tg.webhook.get("url"), 30)

        bluesky_burst = asyncio.ensure_future(post_mentions(16))
        await wait_for(lambda: leader.answered() >= 3, 60)  # mid-burst: some answered, more coming
        # Replies stall a moment, so the leader is killed holding a Telegram update it
        # has accepted but not yet answered: it must come back through another replica.
        tg.inject_stall("sendMessage", 2.0, count=3)
        burst = asyncio.gather(bluesky_burst, write_telegram(24))
        assert world.proxy is not None
        sent_to = world.proxy.sent_to

        def leader_holds_an_update() -> bool:
            return any(
                port == leader.tg_port and not tg.chat(writer[update_id])
                for update_id, port in list(sent_to.items())
                if update_id in writer
            )

        await wait_for(leader_holds_an_update, 30)
        assert leader.proc is not None
        leader.proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        successor = await world.wait_leader(TAKEOVER_LIMIT + 10)
        took = time.monotonic() - killed_at
        assert successor is not leader
        assert took < TAKEOVER_LIMIT, f"takeover took {took:.1f}s"
        await burst

        def all_answered() -> bool:
            counts = own_replies(stack, bot.handle, PW)
            return all(counts.get(uri) for uri in mentions)

        try:
            await wait_for(lambda: asyncio.to_thread(all_answered), 60, step=0.3)
        except TimeoutError:
            raise AssertionError(f"mentions left unanswered\n{world.logs()}") from None
        for user_id in users:
            try:
                await tg.wait_messages(user_id, per_answer, timeout=30)
            except TimeoutError:
                raise AssertionError(f"Telegram user {user_id} got no answer (lost)") from None
        # A window, not an event: updates of one chat may reach different replicas, so
        # no later answer proves the earlier ones are all done (as settled() does).
        await asyncio.sleep(1.5)  # long enough for a duplicate, if any, to show up
        counts = await asyncio.to_thread(own_replies, stack, bot.handle, PW)
        twice = {uri: n for uri, n in counts.items() if uri in mentions and n != 1}
        assert not twice, f"answered more than once: {twice}\n{world.logs()}"
        assert len([u for u in mentions if counts.get(u) == 1]) == len(mentions)
        tg_counts = {u: len(tg.chat(u)) for u in users}
        assert all(n == per_answer for n in tg_counts.values()), tg_counts
        assert tg.flood_429s == 0  # three replicas, one chat each: paced as one
        roles = await world.roles()
        assert sorted(roles.values()) == ["running", "standby"]
        logs = "".join(r.log() for r in world.replicas)
        assert not any("Traceback" in r.log() for r in world.alive()), world.logs()
        assert PW not in logs and TOKEN.split(":")[1] not in logs
        print(json.dumps({"takeover_s": round(took, 2), "mentions": len(mentions)}))
    finally:
        await world.stop()
        with contextlib.suppress(Exception):
            await tg.stop()
