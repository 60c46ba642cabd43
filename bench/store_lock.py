"""Reply latency while another process holds the SQLite write lock.

Five people ask at once while an ``sqlite3`` shell (here a child process) keeps
``BEGIN EXCLUSIVE`` open on the bot's database; prints each reply's latency and
the time a reply takes once the lock is gone.

    python bench/store_lock.py [--people 5]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _paths import use_repo_and_tests

use_repo_and_tests()

from helpers.sqlite_lock import hold_lock, release  # noqa: E402

from bot.core import Core  # noqa: E402
from bot.kb.loader import default_dir, load_knowledge  # noqa: E402
from bot.messages import IncomingMessage  # noqa: E402
from bot.store.sqlite import SQLiteStore  # noqa: E402

QUESTION = "how do i stop grok training on my posts"


async def timed(core: Core, user: str) -> float:
    started = time.monotonic()
    await core.handle(IncomingMessage(QUESTION, "telegram", user, "en"))
    return time.monotonic() - started


async def main(people: int) -> None:
    kb = load_knowledge(default_dir())
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bot.sqlite3"
        store = SQLiteStore(db, b"s" * 32)
        await store.open()
        core = Core(kb, store)
        print(f"no lock: {await timed(core, 'warm') * 1000:.1f} ms")
        holder = hold_lock(db)
        try:
            latencies = await asyncio.gather(*(timed(core, str(n)) for n in range(people)))
        finally:
            release(holder)
        print("lock held, replies (s): " + ", ".join(f"{s:.2f}" for s in sorted(latencies)))
        print(f"after the lock: {await timed(core, 'later') * 1000:.1f} ms")
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5)
    asyncio.run(main(parser.parse_args().people))
