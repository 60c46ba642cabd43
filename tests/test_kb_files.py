"""Knowledge folders holding what they should not (issue 12): FIFOs, devices, giants, aliases.

Each is refused quickly with the usual ``file: topic: field: problem`` line, and
the rest of the folder is still checked.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from bot.kb.files import MAX_FILE_BYTES, KnowledgeReader, RefusedFile
from bot.kb.loader import KnowledgeError, default_dir, load_knowledge

pytestmark = pytest.mark.timeout(60)

BILLION_LAUGHS = "\n".join(
    ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    + ["platform: x", "name: X", "topics: *a9"]
)


def problems_of(directory: Path, timeout: float = 20.0) -> list[str]:
    """``load_knowledge``'s problem lines, failing (not hanging) if it never returns."""
    outcome: list[object] = []

    def load() -> None:
        try:
            load_knowledge(directory)
        except KnowledgeError as exc:
            outcome.append([str(p) for p in exc.problems])
        except BaseException as exc:  # e.g. MemoryError: reported by the test
            outcome.append(exc)
        else:
            outcome.append([])

    worker = threading.Thread(target=load, daemon=True)  # a hung read cannot block exit
    worker.start()
    worker.join(timeout)
    assert outcome, f"load_knowledge did not return within {timeout} s"
    assert isinstance(outcome[0], list), f"load_knowledge raised {outcome[0]!r}"
    return outcome[0]


def refused(problems: list[str], path: Path, reason: str) -> bool:
    return any(p.startswith(f"{path}: -: -: ") and reason in p for p in problems)


def test_a_fifo_is_refused_without_hanging(kb_dir: Path) -> None:
    kb = kb_dir
    fifo = kb / "zz-pipe.yaml"
    os.mkfifo(fifo)
    problems = problems_of(kb)
    assert refused(problems, fifo, "a FIFO, not a regular file"), problems


def test_a_symlink_to_dev_zero_is_refused(kb_dir: Path) -> None:
    kb = kb_dir
    link = kb / "zero.yaml"
    link.symlink_to("/dev/zero")
    problems = problems_of(kb)
    assert refused(problems, link, "a character device"), problems


def test_a_directory_named_yaml_is_refused(kb_dir: Path) -> None:
    kb = kb_dir
    (kb / "folder.yaml").mkdir()
    problems = problems_of(kb)
    assert refused(problems, kb / "folder.yaml", "a directory"), problems


def test_a_symlink_to_a_regular_file_is_read(kb_dir: Path, tmp_path: Path) -> None:
    kb = kb_dir
    (files := tmp_path / "kb-real").mkdir()
    for path in kb.glob("*.yaml"):
        (files / path.name).write_bytes(path.read_bytes())
        path.unlink()
        path.symlink_to(files / path.name)
    assert problems_of(kb) == []


def test_a_file_over_the_size_limit_is_refused_after_reading_only_the_limit(kb_dir: Path) -> None:
    kb = kb_dir
    big = kb / "big.yaml"
    big.write_bytes(b"# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    problems = problems_of(kb)
    assert refused(problems, big, f"larger than {MAX_FILE_BYTES:,} bytes"), problems


def test_the_folder_as_a_whole_has_a_size_limit(tmp_path: Path) -> None:
    reader = KnowledgeReader(max_file=100, max_total=250)
    paths = []
    for n in range(3):
        paths.append(tmp_path / f"{n}.yaml")
        paths[-1].write_bytes(b"x: 1\n" * 18)  # 90 bytes each
    assert reader.read(paths[0]) and reader.read(paths[1])
    with pytest.raises(RefusedFile, match="together exceed 250 bytes"):
        reader.read(paths[2])


def test_yaml_aliases_that_expand_exponentially_are_refused_quickly(kb_dir: Path) -> None:
    kb = kb_dir
    laughs = kb / "laughs.yaml"
    laughs.write_text(BILLION_LAUGHS, encoding="utf-8")  # 81 aliases, 9**9 leaves
    started = time.monotonic()
    problems = problems_of(kb)
    assert refused(problems, laughs, "YAML aliases expand to more than"), problems
    assert time.monotonic() - started < 10  # before: 20 s and 2 GB for 268 kB


def test_too_many_yaml_aliases_are_refused(kb_dir: Path) -> None:
    kb = kb_dir
    many = kb / "many.yaml"
    many.write_text(
        "a: &a x\nplatform: x\nname: X\nlist: [" + ", ".join(["*a"] * 101) + "]\ntopics: []\n",
        encoding="utf-8",
    )
    problems = problems_of(kb)
    assert refused(problems, many, "more than 100 YAML aliases"), problems


def test_the_bundled_knowledge_base_passes_the_checks() -> None:
    reader = KnowledgeReader()
    for path in sorted(default_dir().glob("*.yaml")):
        assert reader.read(path) == path.read_bytes()
