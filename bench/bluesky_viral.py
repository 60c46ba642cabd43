"""A viral burst on the REAL local atproto stack: 2,000 mentions, and the write budget.

    python bench/bluesky_viral.py [--mentions 2000] [--accounts 50] [--writes-per-hour 5000]
                                  [--resume age|wait|none] [--stack bench|tests]

Starts (or reuses) the local stack (see ``bench/_bsky.py`` for its ports),
creates a bot account and ``--accounts`` users, runs the real
``python -m bot run bluesky`` and posts ``--mentions`` mentions (with mention
facets) as fast as the PDS takes them.

A reply costs 3 write points, so a budget of B points per hour answers B // 3
mentions in an hour: 2,000 mentions need 6,000 points, more than Bluesky's
5,000. The bench therefore shows both halves:

1. the bot answers the oldest B // 3 mentions, logs that the budget is spent,
   and keeps the rest queued (checked: no more replies for a while, the queue
   size it reports, the process alive and still polling);
2. resuming: ``--resume wait`` really waits for the budget's hour to slide
   (over an hour); ``--resume age`` (default) stops the bot with SIGTERM, moves
   its persisted write-points buckets 61 minutes into the past (what an hour
   passing looks like to the budget, and only to it) and starts it again; the
   rest of the queue must then be answered, once each, oldest first.

Figures (JSON): mentions, answered, duplicates, missing, drain times, post→reply
latency p50/p99, write points (max in any sliding hour of wall-clock time, phase
1) against the budget, peak requests per 5 minutes against 3,000, how far reply
order strays from mention order, bot RSS start/peak/end.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _bsky import (
    QUESTIONS,
    RssSampler,
    age_write_budget,
    bench_stack_env,
    bot_replies,
    create_accounts,
    indexed_at,
    percentile,
    stats_lines,
)
from bluesky_fixtures import BotProcess, bot_env
from helpers.kb import write_kb
from helpers.waits import wait_until

PW = "viral-pass-123"
CREATE_POINTS = 3


def _order_report(mention_rank: dict[str, int], replies: list[dict[str, Any]]) -> dict[str, Any]:
    """How far the order replies were created in strays from the mentions' order."""
    ranks = [mention_rank[r["parent"]] for r in replies if r["parent"] in mention_rank]
    inversions = 0
    worst = 0
    seen_max = -1
    for rank in ranks:
        if rank < seen_max:
            inversions += 1
            worst = max(worst, seen_max - rank)
        seen_max = max(seen_max, rank)
    displacement = max((abs(i - r) for i, r in enumerate(ranks)), default=0)
    return {
        "replies_out_of_order": inversions,
        "worst_rank_gap": worst,
        "max_displacement": displacement,
    }


def _max_points_in_hour(times: list[float]) -> int:
    times = sorted(times)
    best, left = 0, 0
    for right, t in enumerate(times):
        while times[left] <= t - 3600:
            left += 1
        best = max(best, right - left + 1)
    return best * CREATE_POINTS


def main() -> int:
    """Run the burst and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=2000)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--poll", type=float, default=1.0, help="BLUESKY_POLL_INTERVAL")
    parser.add_argument("--writes-per-hour", type=int, default=5000)
    parser.add_argument("--resume", choices=("age", "wait", "none"), default="age")
    parser.add_argument("--post-threads", type=int, default=10)
    parser.add_argument("--hold", type=float, default=15.0, help="seconds to watch the wait")
    parser.add_argument("--timeout", type=float, default=1800.0, help="max wait per phase (s)")
    parser.add_argument("--stack", choices=("bench", "tests"), default="bench")
    args = parser.parse_args()
    capacity = args.writes_per_hour // CREATE_POINTS
    first_phase = min(args.mentions, capacity)
    runs_out = args.mentions > capacity

    with bench_stack_env(args.stack):
        from tests.bluesky_stack import stack

        info = stack.start_stack(timeout=300)
        t0 = time.monotonic()
        bot, users = create_accounts(stack, "viral", args.accounts, PW)
        setup_s = time.monotonic() - t0
        tmp = Path(tempfile.mkdtemp(prefix="pb-viral-"))
        kb = write_kb(tmp / "kb")
        db = tmp / "bot.sqlite3"
        env = bot_env(
            pds_url=info.pds_url,
            handle=bot.handle,
            password=PW,
            db=db,
            extra={
                "BLUESKY_POLL_INTERVAL": str(args.poll),
                "BLUESKY_WRITES_PER_HOUR": str(args.writes_per_hour),
                "BLUESKY_MAX_POSTS": "1",
                # A crowd simulated by a few accounts: no per-person limit or cap.
                "PRIVACYBOT_USER_RATE": "off",
                "BLUESKY_MAX_POSTS_PER_PERSON_HOUR": "1000000",
            },
        )
        proc = BotProcess(env, tmp / "bot.log", kb).start()
        assert proc.proc is not None
        samplers = [RssSampler(proc.proc.pid).start()]
        report: dict[str, Any] = {
            "mentions": args.mentions,
            "accounts": args.accounts,
            "writes_per_hour_budget": args.writes_per_hour,
            "capacity_per_hour": capacity,
            "poll_interval_s": args.poll,
        }
        try:
            wait_until(lambda: "bluesky: logged in" in proc.log(), timeout=60, what="bot login")

            def post(i: int) -> str:
                user = users[i % len(users)]
                text, langs = QUESTIONS[i % len(QUESTIONS)]
                return stack.post_mention(user.client, bot, f"{text} ({i})", langs=langs).uri

            burst_start = time.time()
            with ThreadPoolExecutor(args.post_threads) as pool:
                posted = list(pool.map(post, range(args.mentions)))
            report["burst_posting_s"] = round(time.time() - burst_start, 1)
            report["burst_posts_per_s"] = round(args.mentions / (time.time() - burst_start), 1)

            wait_until(
                lambda: proc.log().count("bluesky: answered") >= first_phase,
                timeout=args.timeout,
                what=f"{first_phase} answers",
                step=0.5,
            )
            phase1_done = time.time()
            if runs_out:
                wait_until(
                    lambda: "write budget spent" in proc.log(),
                    timeout=60,
                    what="the budget-spent warning",
                )
                held_from = proc.log().count("bluesky: answered")
                time.sleep(args.hold)  # the bot must sit on its queue, alive, not answering
                log = proc.log()
                warn = re.search(
                    r"write budget spent \((\d+)/(\d+) points this hour.*?(\d+) posts queued, "
                    r"next in (\d+)s",
                    log,
                )
                report["budget_exhaustion"] = {
                    "answered_when_spent": held_from,
                    "answered_after_holding_s": log.count("bluesky: answered"),
                    "held_s": args.hold,
                    "process_alive": proc.proc is not None and proc.proc.poll() is None,
                    "warning": warn.group(0) if warn else None,
                    "points_hour_reported": int(warn.group(1)) if warn else None,
                    "queued_reported": int(warn.group(3)) if warn else None,
                    "next_in_s_reported": int(warn.group(4)) if warn else None,
                    "errors_logged": len(re.findall(r" (ERROR|CRITICAL) ", log)),
                }
            if runs_out and args.resume != "none":
                proc.stop(signal.SIGTERM)
                samplers[-1].stop()
                if args.resume == "age":
                    report["aged_budget_buckets"] = age_write_budget(db, 61)
                restart = time.time()
                proc.start()
                assert proc.proc is not None
                samplers.append(RssSampler(proc.proc.pid).start())
                wait_until(
                    lambda: proc.log().count("bluesky: answered") >= args.mentions,
                    timeout=args.timeout if args.resume == "age" else 3 * 3600,
                    what=f"{args.mentions} answers",
                    step=0.5,
                )
                report["phase2_drain_s"] = round(time.time() - restart, 1)
            else:
                restart = None
            time.sleep(max(3 * args.poll, 3.0))  # a duplicate, if any, would appear now
            stack.process_all()
        finally:
            proc.stop()
            for sampler in samplers:
                sampler.stop()

        reader = users[0].client
        replies = bot_replies(reader, bot.did)
        seen = indexed_at(reader, posted)
        ordered = sorted(posted, key=lambda u: (seen.get(u, (9e18, 0))[0], seen.get(u, (0, 0))[1]))
        rank = {u: i for i, u in enumerate(ordered)}
        per_parent: dict[str, int] = {}
        for r in replies:
            per_parent[r["parent"]] = per_parent.get(r["parent"], 0) + 1
        counts = [per_parent.get(u, 0) for u in posted]
        phase1 = [r for r in replies if restart is None or r["created_at"] < restart]
        phase1_parents = {r["parent"] for r in phase1}
        oldest = set(ordered[: len(phase1_parents)])
        latencies = [r["created_at"] - seen[r["parent"]][1] for r in phase1 if r["parent"] in seen]
        stats = stats_lines(proc.log())
        report.update(
            {
                "setup_accounts_s": round(setup_s, 1),
                "answered_exactly_once": sum(1 for c in counts if c == 1),
                "missing": sum(1 for c in counts if c == 0),
                "duplicates": sum(1 for c in counts if c > 1),
                "phase1_answered": len(phase1_parents),
                "phase1_not_among_oldest": len(phase1_parents - oldest),
                "phase1_drain_s": round(phase1_done - burst_start, 1),
                "phase1_last_reply_after_s": round(
                    max(r["created_at"] for r in phase1) - burst_start, 1
                )
                if phase1
                else None,
                "latency_p50_s": round(statistics.median(latencies), 2) if latencies else None,
                "latency_p99_s": round(percentile(latencies, 0.99), 2) if latencies else None,
                "latency_max_s": round(max(latencies), 2) if latencies else None,
                "order": _order_report(rank, replies),
                "write_points_max_in_any_wallclock_hour_phase1": _max_points_in_hour(
                    [r["created_at"] for r in phase1]
                ),
                "write_points_total": CREATE_POINTS * len(replies),
                "requests_peak_5min": max(
                    (s.get("requests_5min_peak", 0) for s in stats), default=0
                ),
                "requests_budget_5min": 3000,
                "requests_total": sum(
                    json.loads(m).get("requests_total", 0)
                    for m in re.findall(r"bluesky: stopped (\{.*\})", proc.log())
                ),
                "rss_phase1": samplers[0].summary(),
                "rss_phase2": samplers[1].summary() if len(samplers) > 1 else None,
                "errors_logged": len(re.findall(r" (ERROR|CRITICAL) ", proc.log())),
                "bot_log": str(proc.log_path),
                "stack_memory": stack.memory_usage(info),
            }
        )
        print(json.dumps(report, indent=2))
        ok = report["missing"] == 0 and report["duplicates"] == 0
        if args.resume == "none" and runs_out:
            ok = report["duplicates"] == 0
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
