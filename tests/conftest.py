"""Fixtures any test module may ask for by name.

Plain helpers (ports, waits, processes, knowledge-base writer, reply checks)
live in ``tests/helpers/``; the fakes of the servers the bot talks to in
``tests/fakes/``; what only one channel's tests use stays beside them
(``telegram_fixtures.py``, ``bluesky_fixtures.py``, ``store_fixtures.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.kb import write_kb

from bot.kb.loader import KnowledgeBase, default_dir, load_knowledge


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    """The repository's knowledge base, loaded once for the session (never changed by tests)."""
    return load_knowledge(default_dir())


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A folder holding the small test knowledge base (:func:`helpers.kb.write_kb`)."""
    return write_kb(tmp_path / "kb")
