"""Load test of the Telegram channel: 1,000 people ask a question within a few seconds.

    python bench/telegram_load.py                 # 1000 users over 3 s
    python bench/telegram_load.py --users 200 --spread 1 --json

Runs the real ``python -m bot run telegram`` against the fake Bot API server
(``tests/fakes/bot_api.py``, 127.0.0.1) with Telegram's flood limits enforced:
1 message/s per chat and 30 messages/s overall, answered with 429 beyond.
Each user sends one question (an example question of a random topic, English
or French); the script waits until every reply is complete and reports:

* replies delivered (all must be) and messages sent;
* the delivery rate against the 30 messages/s limit, and the 429s the fake
  had to send (must be 0: the bot paces itself);
* p50/p99 time from the update being queued to the first message of its reply
  (what the person waits for) and to the last one (long answers take several
  messages, one per second per chat);
* CPU time and peak resident memory of the bot process (psutil).

Exit status 1 if a reply is missing or a flood limit was hit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _paths import use_repo_and_tests

ROOT = use_repo_and_tests()

from fakes.bot_api import FakeTelegram  # noqa: E402
from telegram_fixtures import TOKEN, BotProcess  # noqa: E402

from bot.adapters.telegram import TelegramChannel, TelegramSettings  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.kb.loader import default_dir, load_knowledge  # noqa: E402
from bot.messages import IncomingMessage  # noqa: E402

FIRST_USER = 10_000_000


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def plan(users: int, seed: int) -> list[tuple[dict, str, int]]:
    """Each user's question and how many messages its reply takes."""
    kb = load_knowledge(default_dir())
    core = Core(kb)
    channel = TelegramChannel(core, TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}))
    rng = random.Random(seed)
    questions = [
        (lang, example)
        for topic in kb.topics.values()
        for lang in ("en", "fr")
        for example in getattr(topic, lang).examples
    ]
    out = []
    for n in range(users):
        lang, question = rng.choice(questions)
        reply = await core.handle(IncomingMessage(question, language_hint=lang))
        first, rest = channel.render(reply)
        user = FakeTelegram.user(FIRST_USER + n, f"user{n}", lang)
        out.append((user, question, len(first) + len(rest)))
    return out


class Sampler:
    """Samples the bot process's CPU time and resident memory."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak_rss = 0
        self.cpu_start = self._cpu()
        self._task: asyncio.Task | None = None

    def _cpu(self) -> float:
        times = self.proc.cpu_times()
        return times.user + times.system

    async def _run(self) -> None:
        while True:
            self.peak_rss = max(self.peak_rss, self.proc.memory_info().rss)
            await asyncio.sleep(0.2)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> float:
        if self._task:
            self._task.cancel()
        self.peak_rss = max(self.peak_rss, self.proc.memory_info().rss)
        return self._cpu() - self.cpu_start


async def run(users: int, spread: float, seed: int, timeout: float) -> dict:
    work = await plan(users, seed)
    expected_messages = sum(n for _, _, n in work)
    with tempfile.TemporaryDirectory(prefix="tg-bench-") as tmp:
        async with FakeTelegram(TOKEN) as fake:
            bot = BotProcess(fake, Path(tmp) / "bot.sqlite3")
            await bot.start()
            assert bot.proc is not None
            sampler = Sampler(bot.proc.pid)
            idle_rss = sampler.proc.memory_info().rss
            sampler.start()
            sent_at: dict[int, float] = {}
            started = time.monotonic()

            async def one(user: dict, question: str, delay: float) -> None:
                await asyncio.sleep(delay)
                sent_at[user["id"]] = time.monotonic()
                await fake.send_text(user, question)

            rng = random.Random(seed + 1)
            await asyncio.gather(*(one(u, q, rng.uniform(0, spread)) for u, q, _ in work))
            injected = time.monotonic() - started
            with contextlib.suppress(TimeoutError):
                await fake.wait_for(lambda: fake.delivered >= expected_messages, timeout)
            finished = time.monotonic()
            cpu = sampler.stop()
            status = await bot.stop()

        first_latency, last_latency, complete = [], [], 0
        for user, _, count in work:
            times = [c.at for c in fake.calls_of("sendMessage", chat_id=user["id"]) if c.ok]
            if times:
                first_latency.append(times[0] - sent_at[user["id"]])
            if len(times) >= count:
                complete += 1
                last_latency.append(times[count - 1] - sent_at[user["id"]])
        ok_sends = [c.at for c in fake.calls_of("sendMessage") if c.ok]
        busy = (max(ok_sends) - min(ok_sends)) if len(ok_sends) > 1 else 0.0
        peak_window = 0
        ok_sends.sort()
        lo = 0
        for hi, at in enumerate(ok_sends):
            while at - ok_sends[lo] >= 1.0:
                lo += 1
            peak_window = max(peak_window, hi - lo + 1)
        return {
            "users": users,
            "questions_sent_within_s": round(injected, 2),
            "replies_complete": complete,
            "replies_started": len(first_latency),
            "messages_expected": expected_messages,
            "messages_delivered": len(ok_sends),
            "wall_time_s": round(finished - started, 1),
            "delivery_rate_msg_per_s": round(len(ok_sends) / busy, 1) if busy else None,
            "peak_messages_in_any_1s_window": peak_window,
            "telegram_limit_msg_per_s": 30,
            "flood_429_from_fake": fake.flood_429s,
            "first_message_p50_s": round(statistics.median(first_latency), 2),
            "first_message_p99_s": round(percentile(first_latency, 99), 2),
            "complete_reply_p50_s": round(statistics.median(last_latency), 2),
            "complete_reply_p99_s": round(percentile(last_latency, 99), 2),
            "bot_cpu_seconds": round(cpu, 1),
            "bot_cpu_percent_avg": round(100 * cpu / (finished - started), 1),
            "bot_rss_idle_mb": round(idle_rss / 2**20, 1),
            "bot_rss_peak_mb": round(sampler.peak_rss / 2**20, 1),
            "bot_exit_status": status,
        }


def main() -> int:
    """Parse arguments, run the load, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=3.0, help="seconds to send all questions")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(run(args.users, args.spread, args.seed, args.timeout))
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:32} {value}")
    ok = (
        report["replies_complete"] == args.users
        and report["flood_429_from_fake"] == 0
        and report["bot_exit_status"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
