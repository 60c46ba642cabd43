"""Where the bench finds the bot and the test helpers, whichever folder it runs from."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def use_repo_and_tests() -> Path:
    """Put this clone, its ``tests/`` and ``bench/`` first on ``sys.path``.

    The clone first, so ``bot`` is this tree's even where another copy is
    installed; ``tests/`` for the fakes and helpers; ``bench/`` for the modules
    the benches share.

    Returns:
        The clone's root folder.
    """
    for path in (REPO / "bench", REPO / "tests", REPO):
        if str(path) in sys.path:
            sys.path.remove(str(path))
        sys.path.insert(0, str(path))
    return REPO
