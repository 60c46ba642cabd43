"""Load test of the Telegram channel: 5,000 questions from 1,000 people in one minute.

    python bench/telegram_load_5k.py                      # 1000 users x 5 questions, 60 s
    python bench/telegram_load_5k.py --users 100 --per-user 3 --spread 10 --json

Runs the real ``python -m bot run telegram`` against the fake Bot API server
(``tests/fakes/bot_api.py``, 127.0.0.1) with Telegram's flood limits enforced
(1 message/s per chat, 30 messages/s overall, 429 beyond). Every person asks
``--per-user`` questions taken from ``tests/heldout.yaml`` (only those with an
expected topic that the engine answers with that topic, in one language per
person), at random moments within ``--spread`` seconds.

What is checked, per person: the bot's messages in the chat are *exactly* the
expected replies, in order (each message's HTML compared with the in-process
rendering, whose first message carries the expected topic's title): no reply
missing, none duplicated, none wrong. Reported: delivered replies and messages,
the fake's 429s (must be 0), p50/p99 time from a question to the first message
of its reply and to its last message, how long the queue takes to drain after
the last question, bot CPU, and bot RSS at start, every 30 s and at the end.

Telegram's 30 messages/s cap is the bottleneck by design: a reply is 1-4
messages, so 5,000 replies take several minutes to deliver whatever the bot
does; the figures show how the wait is shared out.

Exit status 1 if any reply is missing, wrong or duplicated, or a limit was hit.
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
import yaml
from _paths import use_repo_and_tests

ROOT = use_repo_and_tests()

from fakes.bot_api import FakeTelegram  # noqa: E402
from telegram_fixtures import TOKEN, BotProcess  # noqa: E402
from telegram_load import percentile  # noqa: E402

from bot.adapters.telegram import TelegramChannel, TelegramSettings  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.kb.loader import default_dir, load_knowledge  # noqa: E402
from bot.messages import IncomingMessage  # noqa: E402
from bot.store.memory import MemoryStore  # noqa: E402

FIRST_USER = 20_000_000
RSS_EVERY = 30.0


async def heldout_questions(core: Core) -> tuple[dict[str, list[tuple[str, str]]], int]:
    """Held-out questions by language, as (question, expected topic), and how many were left out.

    Only questions the engine answers with their expected topic are kept: this
    bench measures delivery under load, the engine's accuracy is ``bench/engine.py``'s.
    """
    cases = yaml.safe_load((ROOT / "tests" / "heldout.yaml").read_text(encoding="utf-8"))
    by_lang: dict[str, list[tuple[str, str]]] = {"en": [], "fr": []}
    skipped = 0
    for case in cases:
        if not case.get("expect"):
            continue
        reply = await core.handle(IncomingMessage(case["q"], language_hint=case["lang"]))
        if reply.kind == "answer" and reply.topic_id == case["expect"]:
            by_lang[case["lang"]].append((case["q"], case["expect"]))
        else:
            skipped += 1
    return by_lang, skipped


async def plan(
    users: int, per_user: int, seed: int, by_lang: dict[str, list[tuple[str, str]]]
) -> list[tuple[dict, list[tuple[str, str]], list[str], list[int]]]:
    """Each person, their questions (text, topic), the expected messages and per-reply counts.

    The expected messages come from the same engine and renderer, run in process
    with the person's history, as the bot does (language and last topic carry over).
    """
    kb = load_knowledge(default_dir())
    core = Core(kb, MemoryStore())
    channel = TelegramChannel(core, TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}))
    rng = random.Random(seed)
    out = []
    for n in range(users):
        lang = "en" if n % 2 else "fr"
        user = FakeTelegram.user(FIRST_USER + n, f"user{n}", lang)
        questions = [rng.choice(by_lang[lang]) for _ in range(per_user)]
        messages: list[str] = []
        counts: list[int] = []
        for question, _ in questions:
            state = await core.store.get_user("telegram", str(user["id"]))
            hint = (state.language if state else None) or lang
            reply = await core.handle(
                IncomingMessage(question, "telegram", str(user["id"]), language_hint=hint)
            )
            first, rest = channel.render(reply)
            messages += first + rest
            counts.append(len(first) + len(rest))
        out.append((user, questions, messages, counts))
    return out


async def run(users: int, per_user: int, spread: float, seed: int, timeout: float) -> dict:
    core = Core(load_knowledge(default_dir()))
    by_lang, skipped = await heldout_questions(core)
    work = await plan(users, per_user, seed, by_lang)
    expected_messages = sum(len(m) for _, _, m, _ in work)
    rss_timeline: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="tg-bench-5k-") as tmp:
        async with FakeTelegram(TOKEN) as fake:
            bot = BotProcess(fake, Path(tmp) / "bot.sqlite3")
            await bot.start()
            assert bot.proc is not None
            proc = psutil.Process(bot.proc.pid)
            cpu_times = proc.cpu_times()
            cpu_start = cpu_times.user + cpu_times.system
            started = time.monotonic()
            peak = 0

            async def sample() -> None:
                nonlocal peak
                next_mark = 0.0
                while True:
                    rss = proc.memory_info().rss
                    peak = max(peak, rss)
                    elapsed = time.monotonic() - started
                    if elapsed >= next_mark:
                        rss_timeline.append((round(elapsed), round(rss / 2**20, 1)))
                        next_mark += RSS_EVERY
                    await asyncio.sleep(0.5)

            sampler = asyncio.get_running_loop().create_task(sample())
            sent_at: dict[int, list[float]] = {}

            async def person(user: dict, questions: list[tuple[str, str]]) -> None:
                rng = random.Random(user["id"])
                moments = sorted(rng.uniform(0, spread) for _ in questions)
                times = sent_at.setdefault(user["id"], [])
                for moment, (question, _) in zip(moments, questions, strict=True):
                    await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
                    times.append(time.monotonic())
                    await fake.send_text(user, question)

            await asyncio.gather(*(person(u, q) for u, q, _, _ in work))
            injected = time.monotonic() - started
            with contextlib.suppress(TimeoutError):
                await fake.wait_for(lambda: fake.delivered >= expected_messages, timeout)
            finished = time.monotonic()
            await asyncio.sleep(2.0)  # anything extra (a duplicate) would show now
            sampler.cancel()
            end_rss = proc.memory_info().rss
            rss_timeline.append((round(time.monotonic() - started), round(end_rss / 2**20, 1)))
            cpu_times = proc.cpu_times()
            cpu = cpu_times.user + cpu_times.system - cpu_start
            status = await bot.stop()

        first_latency, last_latency = [], []
        complete = wrong = duplicated = missing = 0
        topics_ok = 0
        for user, questions, messages, counts in work:
            sent = [c for c in fake.calls_of("sendMessage", chat_id=user["id"]) if c.ok]
            got = [m.html for m in fake.chat(user["id"])]
            if len(got) > len(messages):
                duplicated += 1
            index = 0
            asked_at = sent_at[user["id"]]
            for (_, topic), count, asked in zip(questions, counts, asked_at, strict=True):
                part = got[index : index + count]
                want = messages[index : index + count]
                if len(part) < count:
                    missing += 1
                elif part != want:
                    wrong += 1
                else:
                    complete += 1
                    title = load_title(topic, user["language_code"])
                    topics_ok += bool(title and fake.chat(user["id"])[index].text.startswith(title))
                    first_latency.append(sent[index].at - asked)
                    last_latency.append(sent[index + count - 1].at - asked)
                index += count
        ok_sends = sorted(c.at for c in fake.calls_of("sendMessage") if c.ok)
        peak_window, lo = 0, 0
        for hi, at in enumerate(ok_sends):
            while at - ok_sends[lo] >= 1.0:
                lo += 1
            peak_window = max(peak_window, hi - lo + 1)
        busy = (ok_sends[-1] - ok_sends[0]) if len(ok_sends) > 1 else 0.0
        return {
            "users": users,
            "questions": users * per_user,
            "heldout_questions_used": sum(len(v) for v in by_lang.values()),
            "heldout_questions_left_out": skipped,
            "questions_sent_within_s": round(injected, 1),
            "replies_complete_and_correct": complete,
            "replies_with_expected_topic_title": topics_ok,
            "replies_missing": missing,
            "replies_wrong": wrong,
            "chats_with_extra_messages": duplicated,
            "messages_expected": expected_messages,
            "messages_delivered": len(ok_sends),
            "flood_429_from_fake": fake.flood_429s,
            "flood_429_by_limit": dict(fake.flood_429s_by_limit),
            "peak_messages_in_any_1s_window": peak_window,
            "delivery_rate_msg_per_s": round(len(ok_sends) / busy, 1) if busy else None,
            "first_message_p50_s": round(statistics.median(first_latency), 2),
            "first_message_p99_s": round(percentile(first_latency, 99), 2),
            "complete_reply_p50_s": round(statistics.median(last_latency), 2),
            "complete_reply_p99_s": round(percentile(last_latency, 99), 2),
            "wall_time_s": round(finished - started, 1),
            "drain_after_last_question_s": round(finished - started - injected, 1),
            "bot_cpu_seconds": round(cpu, 1),
            "bot_cpu_percent_avg": round(100 * cpu / (finished - started), 1),
            "bot_rss_start_mb": rss_timeline[0][1],
            "bot_rss_peak_mb": round(peak / 2**20, 1),
            "bot_rss_end_mb": rss_timeline[-1][1],
            "bot_rss_every_30s_mb": rss_timeline,
            "bot_exit_status": status,
        }


_KB = load_knowledge(default_dir())


def load_title(topic: str, language: str) -> str | None:
    """The title a reply about ``topic`` starts with."""
    found = _KB.topics.get(topic)
    return found.lang(language).title if found else None


def main() -> int:
    """Parse arguments, run the load, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--per-user", type=int, default=5)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds to send everything")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds to wait for drain")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(run(args.users, args.per_user, args.spread, args.seed, args.timeout))
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:36} {value}")
    ok = (
        report["replies_complete_and_correct"] == report["questions"]
        and report["chats_with_extra_messages"] == 0
        and report["flood_429_from_fake"] == 0
        and report["bot_exit_status"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
