"""A longer fuzz of the question pipeline and the three renderers, on demand (not in CI).

It reuses the strategies and checks of ``tests/test_hostile_input.py`` with many
more examples, and reports the slowest message seen through ``Core.respond``
(a figure to read, not a threshold). Run it from the repository root::

    python bench/fuzz_pipeline.py --examples 5000
    python bench/fuzz_pipeline.py --examples 20000 --seed 7 --only replies

It exits 1 with hypothesis's falsifying example when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _paths import use_repo_and_tests
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

REPO = use_repo_and_tests()

import test_hostile_input as hostile  # noqa: E402

from bot.core import Core  # noqa: E402
from bot.kb.loader import load_knowledge  # noqa: E402
from bot.messages import IncomingMessage, Reply  # noqa: E402
from bot.store.memory import MemoryStore  # noqa: E402


def fuzz_pipeline(
    core: Core, examples: int, slowest: list[tuple[float, int]], seed_value: int | None
) -> None:
    """Random hostile messages through ``Core.respond`` and every renderer."""
    messages = st.one_of(
        hostile.hostile_text,
        hostile.long_text,
        st.builds(lambda unit, n: unit * n, hostile.hostile_text, st.integers(100, 30_000)),
    )

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(text=messages, hint=st.none() | st.sampled_from(["en", "fr", "de", ""]))
    def run(text: str, hint: str | None) -> None:
        started = time.perf_counter()
        reply = asyncio.run(
            core.respond(IncomingMessage(text=text, user_id="fuzz", language_hint=hint))
        ).reply
        slowest.append(((time.perf_counter() - started) * 1000.0, len(text)))
        slowest.sort(reverse=True)
        del slowest[5:]
        hostile.check_all_renderers(reply)

    (seed(seed_value)(run) if seed_value is not None else run)()


def fuzz_replies(examples: int, seed_value: int | None) -> None:
    """Hostile Reply objects straight into the renderers."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(reply=hostile.hostile_replies())
    def run(reply: Reply) -> None:
        hostile.check_all_renderers(reply)

    (seed(seed_value)(run) if seed_value is not None else run)()


def main() -> int:
    """Parse arguments, run the chosen fuzzers and print what was seen."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000, help="examples per fuzzer")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed")
    parser.add_argument("--only", choices=["pipeline", "replies"], default=None)
    args = parser.parse_args()

    core = Core(load_knowledge(REPO / "knowledge"), MemoryStore(), log_unanswered=True)
    slowest: list[tuple[float, int]] = []
    jobs = []
    if args.only in (None, "pipeline"):
        jobs.append(("pipeline", lambda: fuzz_pipeline(core, args.examples, slowest, args.seed)))
    if args.only in (None, "replies"):
        jobs.append(("replies", lambda: fuzz_replies(args.examples, args.seed)))
    for name, job in jobs:
        started = time.perf_counter()
        try:
            job()
        except Exception as exc:  # hypothesis has printed the falsifying example
            print(f"{name}: FAILED after {time.perf_counter() - started:.1f}s: {exc!r}")
            return 1
        print(f"{name}: {args.examples} examples OK in {time.perf_counter() - started:.1f}s")
    if slowest:
        shown = ", ".join(f"{ms:.1f} ms ({n} chars)" for ms, n in slowest)
        print(f"slowest Core.respond calls: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
