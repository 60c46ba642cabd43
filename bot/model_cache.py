"""Trained model weights kept between starts, in the user's cache folder.

The answer engine's classifier is trained from the knowledge base's examples;
training grows with the knowledge base, so its weights are kept here under a
digest of everything training depends on and loaded at the next start or
reload. The file names are digests, never anything a person wrote: this module
is the engine's only file access besides the knowledge base loader, and it
stays outside the user-facing ``bot/nlu`` package for that reason.

The cache is only an optimisation: a missing, unreadable, unwritable or
damaged folder means training as before, never an error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import platformdirs

CACHE_ENV = "PRIVACYBOT_CACHE_DIR"
KEEP = 8
"""Models kept: the newest few knowledge-base versions (a rollback stays fast)."""
_KEY = re.compile(r"^[0-9a-f]{16,64}$")


def cache_dir() -> Path:
    """``PRIVACYBOT_CACHE_DIR``, or the user cache folder (``~/.cache/privacybot``)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir("privacybot", appauthor=False))


def _path(folder: Path, key: str) -> Path:
    if not _KEY.match(key):
        raise ValueError("a cache key is a hex digest")
    return folder / f"classifier-{key}.npz"


def load(
    key: str, directory: Path | None = None
) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """Feature names, weights and bias stored under ``key``, or None."""
    try:
        with np.load(_path(directory or cache_dir(), key), allow_pickle=False) as data:
            return [str(n) for n in data["features"]], data["weights"], data["bias"]
    except (OSError, KeyError, ValueError):
        return None  # no cache yet, or a damaged file


def save(
    key: str,
    features: list[str],
    weights: np.ndarray,
    bias: np.ndarray,
    directory: Path | None = None,
) -> None:
    """Store weights under ``key`` (atomically) and drop all but the newest :data:`KEEP`."""
    folder = directory or cache_dir()
    path = _path(folder, key)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = folder / f".{path.name}.{os.getpid()}.tmp.npz"
        np.savez(tmp, features=np.array(features, dtype=np.str_), weights=weights, bias=bias)
        os.replace(tmp, path)  # a concurrent reader sees the old file or the new one
        found = sorted(
            folder.glob("classifier-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for old in found[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # read-only home or full disk: the next start trains again
