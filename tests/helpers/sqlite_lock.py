"""Another program holding SQLite's write lock (``BEGIN EXCLUSIVE``) on the bot's database.

Used by the store tests and ``bench/store_lock.py``: a child process takes the
lock, says so, and keeps it until its stdin is closed (:func:`release`) or for a
given number of seconds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("CREATE TABLE IF NOT EXISTS other_program (x)")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("INSERT INTO other_program VALUES (1)")
print("locked", flush=True)
if len(sys.argv) > 2:
    time.sleep(float(sys.argv[2]))
else:
    sys.stdin.read()  # hold the lock until our stdin is closed
conn.execute("COMMIT")
"""


def hold_lock(db: Path, seconds: float | None = None) -> subprocess.Popen[str]:
    """Start a process holding the write lock on ``db``; return once it holds it.

    Args:
        db: The SQLite database file.
        seconds: How long to hold it; until :func:`release` when None.

    Returns:
        The holding process.
    """
    extra = [] if seconds is None else [str(seconds)]
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db), *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def release(proc: subprocess.Popen[str]) -> None:
    """Let a holder started without ``seconds`` commit and end."""
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(10)
