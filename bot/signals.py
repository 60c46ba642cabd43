"""The process's signal handlers while the application runs.

SIGINT/SIGTERM ask the application to stop (drain, then cancel what is late);
SIGHUP reloads the knowledge base. Where the loop cannot install a handler
(not the main thread, Windows), that signal keeps its default behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any


def _install(
    loop: asyncio.AbstractEventLoop, name: str, handler: Callable[..., None], *args: Any
) -> signal.Signals | None:
    sig = getattr(signal, name, None)  # no SIGHUP on Windows
    if sig is None:
        return None
    try:
        loop.add_signal_handler(sig, handler, *args)
    except (NotImplementedError, RuntimeError, ValueError):
        return None
    return sig


@contextlib.contextmanager
def handle_signals(
    on_stop: Callable[[signal.Signals], None], on_reload: Callable[[], None]
) -> Iterator[None]:
    """Route SIGINT/SIGTERM to ``on_stop(sig)`` and SIGHUP to ``on_reload()`` meanwhile.

    Must be entered on the running loop's thread; the handlers are removed on exit.
    """
    loop = asyncio.get_running_loop()
    installed = [
        _install(loop, "SIGINT", on_stop, signal.SIGINT),
        _install(loop, "SIGTERM", on_stop, signal.SIGTERM),
        _install(loop, "SIGHUP", on_reload),
    ]
    try:
        yield
    finally:
        for sig in installed:
            if sig is not None:
                loop.remove_signal_handler(sig)
