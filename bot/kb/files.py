"""Reading knowledge files without trusting what is in the folder.

The folder is trusted for its content, not for what kind of files it holds or
how big they are. Before this module, a FIFO named ``x.yaml`` hung ``kb check``
and every reload forever, a symlink to ``/dev/zero`` ended in a MemoryError at
2.7 GB, and 268 KB of YAML aliases took 20 s and 2 GB before being refused.

:class:`KnowledgeReader` reads one file at a time and refuses, with a reason
that :func:`bot.kb.loader.load_knowledge` reports as ``file: -: -: problem``:

* anything but a regular file (FIFO, device, socket, directory), opened without
  blocking, so a FIFO cannot hang the reader; a symlink to a regular file is
  fine;
* a file over :data:`MAX_FILE_BYTES`, or one that takes the folder over
  :data:`MAX_TOTAL_BYTES` (at most that much is ever read);
* YAML with more than :data:`MAX_ALIASES` aliases, or whose aliases would expand
  to more than :data:`MAX_NODES` nodes (checked on the event stream, which
  costs time linear in the file and never expands anything).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

MAX_FILE_BYTES = 2 * 1024 * 1024
"""One knowledge file (the largest bundled one is about 110 kB)."""
MAX_TOTAL_BYTES = 16 * 1024 * 1024
"""All knowledge files together (the bundled ones are about 230 kB)."""
MAX_ALIASES = 100
"""YAML aliases (``*name``) in one file; the bundled files use none."""
MAX_NODES = 200_000
"""YAML nodes of one file once aliases are expanded (the largest has about 3,000)."""

_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


class RefusedFile(OSError):
    """A knowledge file that is not read; ``str()`` says why, for the problem line."""


class KnowledgeReader:
    """Reads the knowledge files of one load, within the size budget.

    Args:
        max_file: Bytes one file may hold.
        max_total: Bytes all files of the load may hold together.
    """

    def __init__(self, *, max_file: int = MAX_FILE_BYTES, max_total: int = MAX_TOTAL_BYTES):
        self.max_file = max_file
        self.max_total = max_total
        self.total = 0

    def read(self, path: Path) -> bytes:
        """Return a knowledge file's bytes after the checks of the module docstring.

        Raises:
            RefusedFile: Why the file is refused (not regular, too big, aliases).
            OSError: If it cannot be opened or read.
        """
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
                raise RefusedFile(f"refused: it is {kind}, not a regular file")
            left = min(self.max_file, self.max_total - self.total)
            chunks: list[bytes] = []
            size = 0
            while size <= left:
                chunk = os.read(fd, min(1 << 20, left + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
        if size > self.max_file:
            raise RefusedFile(f"refused: larger than {self.max_file:,} bytes")
        if size > left:
            raise RefusedFile(
                f"refused: the knowledge files together exceed {self.max_total:,} bytes"
            )
        self.total += size
        raw = b"".join(chunks)
        check_aliases(raw)
        return raw


def check_aliases(raw: bytes) -> None:
    """Refuse YAML whose aliases are too many or would expand too far.

    Invalid YAML or text is left for the loader to report with its position.

    Raises:
        RefusedFile: Naming the limit that was passed.
    """
    if b"*" not in raw:  # no alias at all: nothing to expand
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    aliases = 0
    sizes: dict[str, int] = {}
    stack: list[tuple[str | None, int]] = [(None, 0)]
    try:
        for event in yaml.parse(text, Loader=_Parser):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise RefusedFile(f"refused: more than {MAX_ALIASES} YAML aliases")
                anchor, count = stack[-1]
                stack[-1] = (anchor, count + sizes.get(str(event.anchor), 1))
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    sizes[event.anchor] = 1
                anchor, count = stack[-1]
                stack[-1] = (anchor, count + 1)
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                stack.append((event.anchor, 1))
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                anchor, count = stack.pop()
                if anchor is not None:
                    sizes[anchor] = count
                outer, total = stack[-1]
                stack[-1] = (outer, total + count)
            else:
                continue
            if stack[-1][1] > MAX_NODES:
                raise RefusedFile(
                    f"refused: its YAML aliases expand to more than {MAX_NODES:,} nodes"
                )
    except yaml.YAMLError:
        return
