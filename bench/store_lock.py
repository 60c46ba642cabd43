"""Reply latency while another process holds the SQLite write lock.

Five people ask at once while an ``sqlite3`` shell (here a child process) keeps
``BEGIN EXCLUSIVE`` open on the bot's database; prints each reply's latency and
the time a reply takes once the lock is gone.

    python bench/store_lock.py [--people 5]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.core import Core
from bot.kb.loader import default_dir, load_knowledge
from bot.messages import IncomingMessage
from bot.store.sqlite import SQLiteStore

HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("CREATE TABLE IF NOT EXISTS other_program (x)")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("INSERT INTO other_program VALUES (1)")
print("locked", flush=True)
sys.stdin.read()
conn.execute("COMMIT")
"""
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
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        try:
            latencies = await asyncio.gather(*(timed(core, str(n)) for n in range(people)))
        finally:
            assert holder.stdin is not None
            holder.stdin.close()
            holder.wait(10)
        print("lock held, replies (s): " + ", ".join(f"{s:.2f}" for s in sorted(latencies)))
        print(f"after the lock: {await timed(core, 'later') * 1000:.1f} ms")
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5)
    asyncio.run(main(parser.parse_args().people))
