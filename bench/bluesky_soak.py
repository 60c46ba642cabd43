"""Soak of the Bluesky bot on the REAL local atproto stack: a steady rate for a while.

    python bench/bluesky_soak.py [--minutes 30] [--rate 0.4] [--accounts 20] [--stack bench|tests]

Runs the real ``python -m bot run bluesky`` against the local PDS and posts
mentions at ``--rate`` per second (spread over ``--accounts`` users, English and
French) for ``--minutes``; then waits for the last replies. Every
``--sample`` seconds it records the bot's RSS, the replies so far and the errors
logged, and prints one JSON line; at the end it prints a summary: replies
(exactly once / missing / duplicates), post→reply latency p50/p99, errors,
write points against the hourly budget, requests per 5 minutes, RSS over time.

The default rate (0.4/s, 1,440 mentions an hour, 4,320 points) stays within
Bluesky's 5,000 write points an hour (1,666 replies); above 0.46/s the budget
runs out after the first hour and the queue grows (by design: it waits).
30 minutes is for running on demand, not in CI; a short run (``--minutes 3``)
is a smoke test of the same thing.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _bsky import (
    QUESTIONS,
    bench_stack_env,
    bot_replies,
    create_accounts,
    indexed_at,
    percentile,
    proc_kib,
    stats_lines,
)
from bluesky_fixtures import BotProcess, bot_env
from helpers.kb import write_kb
from helpers.waits import wait_until

PW = "soak-pass-123"


def main() -> int:
    """Run the soak and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=0.4, help="mentions per second")
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--poll", type=float, default=2.0, help="BLUESKY_POLL_INTERVAL")
    parser.add_argument("--sample", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--stack", choices=("bench", "tests"), default="bench")
    args = parser.parse_args()
    total = int(args.minutes * 60 * args.rate)

    with bench_stack_env(args.stack):
        from tests.bluesky_stack import stack

        info = stack.start_stack(timeout=300)
        bot, users = create_accounts(stack, "soak", args.accounts, PW)
        tmp = Path(tempfile.mkdtemp(prefix="pb-soak-"))
        env = bot_env(
            pds_url=info.pds_url,
            handle=bot.handle,
            password=PW,
            db=tmp / "bot.sqlite3",
            extra={
                "BLUESKY_POLL_INTERVAL": str(args.poll),
                # A crowd simulated by a few accounts: no per-person limit or cap.
                "PRIVACYBOT_USER_RATE": "off",
                "BLUESKY_MAX_POSTS_PER_PERSON_HOUR": "1000000",
            },
        )
        proc = BotProcess(env, tmp / "bot.log", write_kb(tmp / "kb")).start()
        assert proc.proc is not None
        pid = proc.proc.pid
        posted: list[str] = []
        post_errors = [0]
        samples: list[dict[str, Any]] = []
        done = threading.Event()
        started = time.monotonic()

        def sampler() -> None:
            while not done.wait(args.sample):
                log = proc.log()
                sample = {
                    "t_s": round(time.monotonic() - started),
                    "posted": len(posted),
                    "answered": log.count("bluesky: answered"),
                    "errors": len(re.findall(r" (ERROR|CRITICAL) ", log)),
                    "warnings": len(re.findall(r" WARNING ", log)),
                    "rss_mib": round(proc_kib(pid, "VmRSS") / 1024, 1),
                }
                samples.append(sample)
                print(json.dumps(sample), flush=True)

        watcher = threading.Thread(target=sampler, daemon=True)
        try:
            wait_until(lambda: "bluesky: logged in" in proc.log(), timeout=60, what="bot login")
            rss_start = proc_kib(pid, "VmRSS") / 1024
            watcher.start()
            t0 = time.monotonic()
            for i in range(total):  # bounded: --minutes x --rate posts
                delay = t0 + i / args.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                user = users[i % len(users)]
                text, langs = QUESTIONS[i % len(QUESTIONS)]
                try:
                    res = stack.post_mention(user.client, bot, f"{text} (soak {i})", langs=langs)
                    posted.append(res.uri)
                except Exception:  # a refused post is the stack's problem, counted
                    post_errors[0] += 1
            wait_until(
                lambda: proc.log().count("bluesky: answered") >= len(posted),
                timeout=120,
                what="the last replies",
                step=0.5,
            )
            time.sleep(max(3 * args.poll, 3.0))
            stack.process_all()
            rss_end = proc_kib(pid, "VmRSS") / 1024
            rss_peak = proc_kib(pid, "VmHWM") / 1024
        finally:
            done.set()
            proc.stop()
        reader = users[0].client
        replies = bot_replies(reader, bot.did)
        seen = indexed_at(reader, posted)
        per_parent: dict[str, int] = {}
        for r in replies:
            per_parent[r["parent"]] = per_parent.get(r["parent"], 0) + 1
        counts = [per_parent.get(u, 0) for u in posted]
        latencies = [r["created_at"] - seen[r["parent"]][1] for r in replies if r["parent"] in seen]
        log = proc.log()
        stats = stats_lines(log)
        span = max(r["created_at"] for r in replies) - min(r["created_at"] for r in replies)
        report = {
            "minutes": args.minutes,
            "rate_per_s": args.rate,
            "mentions_posted": len(posted),
            "post_errors": post_errors[0],
            "answered_exactly_once": sum(1 for c in counts if c == 1),
            "missing": sum(1 for c in counts if c == 0),
            "duplicates": sum(1 for c in counts if c > 1),
            "latency_p50_s": round(statistics.median(latencies), 2) if latencies else None,
            "latency_p99_s": round(percentile(latencies, 0.99), 2) if latencies else None,
            "errors_logged": len(re.findall(r" (ERROR|CRITICAL) ", log)),
            "tracebacks": log.count("Traceback"),
            "write_points_spent": 3 * len(replies),
            "write_points_per_hour_at_this_rate": round(3 * (len(replies) - 1) / span * 3600)
            if span > 0
            else None,
            "write_points_budget_hour": 5000,
            "requests_peak_5min": max((s.get("requests_5min_peak", 0) for s in stats), default=0),
            "requests_budget_5min": 3000,
            "bot_rss_start_mib": round(rss_start, 1),
            "bot_rss_peak_mib": round(rss_peak, 1),
            "bot_rss_end_mib": round(rss_end, 1),
            "rss_over_time_mib": [(s["t_s"], s["rss_mib"]) for s in samples],
            "bot_log": str(proc.log_path),
        }
        print(json.dumps(report, indent=2))
        return 0 if report["missing"] == 0 and report["duplicates"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
