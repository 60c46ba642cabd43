"""Reply latency while the knowledge base is reloaded again and again.

Asks the core one question every 20 ms while :class:`bot.reloader.KnowledgeReloader`
reloads the bundled knowledge base ``--reloads`` times back to back, and prints
the reply latency (p50, p99, max) with and without the reloads, and the longest
stall of the event loop.

    python bench/reload_latency.py [--reloads 36]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bot.core import Core
from bot.kb.loader import default_dir, load_knowledge
from bot.messages import IncomingMessage
from bot.metrics import Metrics
from bot.reloader import KnowledgeReloader

QUESTION = "how do i stop grok training on my posts"


async def ask_until(core: Core, done: asyncio.Event) -> list[float]:
    latencies = []
    while not done.is_set():
        started = time.perf_counter()
        await core.handle(IncomingMessage(QUESTION))
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)
    return latencies


async def loop_stalls(done: asyncio.Event) -> float:
    worst = 0.0
    while not done.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        worst = max(worst, time.perf_counter() - before - 0.005)
    return worst


def summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name}: {len(values)} replies, p50 {statistics.median(values) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"
    )


async def main(reloads: int) -> None:
    directory = default_dir()
    core = Core(load_knowledge(directory))
    reloader = KnowledgeReloader(core, directory, metrics=Metrics())

    quiet = asyncio.Event()
    asking = asyncio.ensure_future(ask_until(core, quiet))
    await asyncio.sleep(2.0)
    quiet.set()
    print(summary("no reload", await asking))

    done = asyncio.Event()
    asking = asyncio.ensure_future(ask_until(core, done))
    stalls = asyncio.ensure_future(loop_stalls(done))
    started = time.perf_counter()
    for _ in range(reloads):
        result = await reloader()
        assert result.ok, result.problems
    took = time.perf_counter() - started
    done.set()
    print(summary(f"{reloads} reloads in {took:.1f} s", await asking))
    print(f"longest event-loop stall: {await stalls * 1000:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=36)
    asyncio.run(main(parser.parse_args().reloads))
