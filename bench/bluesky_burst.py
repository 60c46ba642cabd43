"""Burst benchmark of the Bluesky bot on the REAL local atproto stack.

    python bench/bluesky_burst.py [--mentions 500] [--accounts 50] [--poll 1.0]

Starts (or reuses) the local stack from ``tests/bluesky_stack`` on the test
ports, creates a bot account and N user accounts, starts the real
``python -m bot run bluesky`` against the local PDS, then posts a burst of
mentions (with mention facets) as fast as the PDS takes them. It reports:
every mention answered exactly once, post→reply latency (p50/p99, from the
mention's createdAt to the reply's createdAt), write points per hour against
Bluesky's 5,000/h budget, requests per 5 minutes against 3,000/5 min, and
memory (bot RSS peak, stack RSS).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _paths import use_repo_and_tests

REPO = use_repo_and_tests()

from _bsky import create_accounts  # noqa: E402
from bluesky_fixtures import BotProcess, bot_env, replies_by, stack_env  # noqa: E402
from helpers.kb import write_kb  # noqa: E402
from helpers.waits import wait_until  # noqa: E402

PW = "bench-pass-123"
QUESTIONS = [
    (" how do I stop Grok training?", ["en"]),
    (" comment empêcher grok de s'entraîner sur mes posts ?", ["fr"]),
    (" stop grok from training on my posts please", ["en"]),
]


def _ts(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _rss_mib(pid: int, key: str = "VmHWM") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    """Run the burst and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=500)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--poll", type=float, default=1.0, help="BLUESKY_POLL_INTERVAL")
    parser.add_argument("--timeout", type=float, default=900.0, help="max wait for answers (s)")
    args = parser.parse_args()

    with stack_env():
        from tests.bluesky_stack import stack

        info = stack.start_stack(timeout=300)
        t0 = time.monotonic()
        bot, users = create_accounts(stack, "bench", args.accounts, PW)
        setup_s = time.monotonic() - t0
        tmp = Path(tempfile.mkdtemp(prefix="pb-bench-"))
        kb = write_kb(tmp / "kb")
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
        proc = BotProcess(env, tmp / "bot.log", kb).start()
        assert proc.proc is not None
        pid = proc.proc.pid
        try:
            wait_until(lambda: "bluesky: logged in" in proc.log(), timeout=60, what="bot login")

            def post(i: int) -> tuple[str, float]:
                user = users[i % len(users)]
                text, langs = QUESTIONS[i % len(QUESTIONS)]
                res = stack.post_mention(user.client, bot, f"{text} ({i})", langs=langs)
                return res.uri, time.time()

            burst_start = time.time()
            with ThreadPoolExecutor(10) as pool:
                posted = list(pool.map(post, range(args.mentions)))
            burst_s = time.time() - burst_start

            wait_until(
                lambda: proc.log().count("bluesky: answered") >= args.mentions,
                timeout=args.timeout,
                what=f"{args.mentions} answers",
                step=0.5,
            )
            done_s = time.time() - burst_start
            time.sleep(max(3 * args.poll, 2.0))  # a duplicate, if any, would appear now
            stack.process_all()
            bot_rss_peak = _rss_mib(pid)
            latencies, counts = [], []
            reader = users[0].client
            for uri, _ in posted:
                mine = replies_by(reader, uri, bot.did)
                counts.append(len(mine))
                if mine:
                    post_view = reader.get_posts([uri]).posts[0]
                    latencies.append(
                        _ts(mine[0].post.record.created_at) - _ts(post_view.record.created_at)
                    )
        finally:
            proc.stop()
        stats_lines = re.findall(r"bluesky: stopped (\{.*\})", proc.log())
        stats = json.loads(stats_lines[-1]) if stats_lines else {}
        duplicates = sum(1 for c in counts if c > 1)
        missing = sum(1 for c in counts if c == 0)
        points = stats.get("write_points_hour", 0)
        report = {
            "mentions": args.mentions,
            "accounts": args.accounts,
            "poll_interval_s": args.poll,
            "answered_exactly_once": sum(1 for c in counts if c == 1),
            "missing": missing,
            "duplicates": duplicates,
            "setup_accounts_s": round(setup_s, 1),
            "burst_posting_s": round(burst_s, 1),
            "all_answered_after_s": round(done_s, 1),
            "latency_p50_s": round(statistics.median(latencies), 2) if latencies else None,
            "latency_p99_s": round(_percentile(latencies, 0.99), 2) if latencies else None,
            "latency_max_s": round(max(latencies), 2) if latencies else None,
            "write_points_spent": points,
            "write_points_budget_hour": 5000,
            "write_points_share_of_hour_budget": round(points / 5000, 3),
            "write_points_rate_per_hour_during_burst": round(points / max(done_s, 1) * 3600),
            "requests_total": stats.get("requests_total"),
            "requests_peak_5min": stats.get("requests_5min_peak"),
            "requests_budget_5min": 3000,
            "bot_rss_peak_mib": round(bot_rss_peak, 1),
            "stack_memory": stack.memory_usage(info),
        }
        print(json.dumps(report, indent=2))
        return 0 if missing == 0 and duplicates == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
