"""Free TCP ports on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def accepts_connections(host: str, port: int) -> bool:
    """Whether something listens on ``host:port`` now (a TCP connect, closed at once)."""
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    return True
