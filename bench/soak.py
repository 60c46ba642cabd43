"""Soak test of the Telegram channel: a steady rate of questions for a long time.

    python bench/soak.py                               # 30 minutes, 2 questions/s
    python bench/soak.py --duration 180 --every 30     # a 3-minute check

On demand, not in CI. Runs the real ``python -m bot run telegram`` against the
fake Bot API server (``tests/fakes/bot_api.py``, 127.0.0.1, flood limits
enforced). ``--users`` people take turns asking held-out questions
(``tests/heldout.yaml``, those the engine answers with their expected topic) at
``--rate`` questions per second. Every ``--every`` seconds it prints one line:
questions sent, replies complete (every expected message arrived), messages,
errors (failed Bot API calls and ERROR lines in the bot's log) and the bot's
RSS; at the end, a summary (``--json`` for one JSON object).

Exit status 1 if a reply is missing, wrong or duplicated, a flood limit was hit,
or the bot logged an error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _paths import use_repo_and_tests

ROOT = use_repo_and_tests()

from fakes.bot_api import FakeTelegram  # noqa: E402
from telegram_fixtures import TOKEN, BotProcess  # noqa: E402
from telegram_load_5k import heldout_questions  # noqa: E402

from bot.adapters.telegram import TelegramChannel, TelegramSettings  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.kb.loader import default_dir, load_knowledge  # noqa: E402
from bot.messages import IncomingMessage  # noqa: E402
from bot.store.memory import MemoryStore  # noqa: E402

FIRST_USER = 30_000_000


async def plan(
    total: int, users: int, seed: int
) -> tuple[list[tuple[dict, str]], dict[int, list[str]], list[tuple[int, int]]]:
    """The questions in sending order, each person's expected messages, and reply sizes.

    Returns:
        ``(schedule, expected, replies)``: ``schedule`` is (user, question) in
        order; ``expected[user_id]`` the HTML of every message that person must
        get; ``replies[i]`` is (user id, messages of the i-th reply).
    """
    kb = load_knowledge(default_dir())
    by_lang, _ = await heldout_questions(Core(kb))
    core = Core(kb, MemoryStore())
    channel = TelegramChannel(core, TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}))
    rng = random.Random(seed)
    people = [
        FakeTelegram.user(FIRST_USER + n, f"user{n}", "en" if n % 2 else "fr") for n in range(users)
    ]
    schedule: list[tuple[dict, str]] = []
    expected: dict[int, list[str]] = {u["id"]: [] for u in people}
    replies: list[tuple[int, int]] = []
    for i in range(total):
        user = people[i % users]
        question, _ = rng.choice(by_lang[user["language_code"]])
        state = await core.store.get_user("telegram", str(user["id"]))
        hint = (state.language if state else None) or user["language_code"]
        reply = await core.handle(
            IncomingMessage(question, "telegram", str(user["id"]), language_hint=hint)
        )
        first, rest = channel.render(reply)
        expected[user["id"]] += first + rest
        schedule.append((user, question))
        replies.append((user["id"], len(first) + len(rest)))
    return schedule, expected, replies


def complete_replies(fake: FakeTelegram, replies: list[tuple[int, int]], sent: int) -> int:
    """How many of the first ``sent`` replies have all their messages delivered."""
    delivered: dict[int, int] = {}
    done = 0
    for user_id, count in replies[:sent]:
        need = delivered.get(user_id, 0) + count
        delivered[user_id] = need
        if len(fake.chat(user_id)) >= need:
            done += 1
    return done


async def run(duration: float, rate: float, users: int, every: float, seed: int) -> dict:
    total = max(1, int(duration * rate))
    schedule, expected, replies = await plan(total, users, seed)
    timeline: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="tg-soak-") as tmp:
        async with FakeTelegram(TOKEN) as fake:
            bot = BotProcess(fake, Path(tmp) / "bot.sqlite3")
            await bot.start()
            assert bot.proc is not None
            proc = psutil.Process(bot.proc.pid)
            started = time.monotonic()
            sent = 0

            def errors() -> int:
                failed = sum(1 for c in fake.calls if not c.ok)
                return failed + bot.log().count('"level": "ERROR"') + bot.log().count(" ERROR ")

            def snapshot() -> dict:
                row = {
                    "t_s": round(time.monotonic() - started),
                    "questions_sent": sent,
                    "replies_complete": complete_replies(fake, replies, sent),
                    "messages": fake.delivered,
                    "errors": errors(),
                    "rss_mb": round(proc.memory_info().rss / 2**20, 1),
                }
                timeline.append(row)
                print(" ".join(f"{k}={v}" for k, v in row.items()), file=sys.stderr, flush=True)
                return row

            async def report() -> None:
                while True:
                    snapshot()
                    await asyncio.sleep(every)

            reporter = asyncio.get_running_loop().create_task(report())
            for i, (user, question) in enumerate(schedule):
                await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
                await fake.send_text(user, question)
                sent += 1
            need = sum(len(v) for v in expected.values())
            with contextlib.suppress(TimeoutError):
                await fake.wait_for(lambda: fake.delivered >= need, 120)
            await asyncio.sleep(2.0)  # a duplicate would show now
            reporter.cancel()
            last = snapshot()
            status = await bot.stop()

        wrong = sum(1 for uid, want in expected.items() if [m.html for m in fake.chat(uid)] != want)
        rss = [row["rss_mb"] for row in timeline]
        return {
            "duration_s": duration,
            "rate_per_s": rate,
            "users": users,
            "questions": total,
            "replies_complete": last["replies_complete"],
            "people_with_wrong_or_extra_messages": wrong,
            "messages_delivered": fake.delivered,
            "flood_429_from_fake": fake.flood_429s,
            "errors": last["errors"],
            "bot_rss_start_mb": rss[0],
            "bot_rss_peak_mb": max(rss),
            "bot_rss_end_mb": rss[-1],
            "timeline": timeline,
            "bot_exit_status": status,
        }


def main() -> int:
    """Parse arguments, run the soak, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=1800.0, help="seconds of questions")
    parser.add_argument("--rate", type=float, default=2.0, help="questions per second")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between reports")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(run(args.duration, args.rate, args.users, args.every, args.seed))
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            if key != "timeline":
                print(f"{key:38} {value}")
    ok = (
        report["replies_complete"] == report["questions"]
        and report["people_with_wrong_or_extra_messages"] == 0
        and report["flood_429_from_fake"] == 0
        and report["errors"] == 0
        and report["bot_exit_status"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
