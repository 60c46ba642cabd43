"""The systemd unit's system-call filter, applied for real to the bot.

``systemd-analyze verify`` accepts a unit whose filter kills the bot at start (numpy's
maths library calls ``mbind`` on import, which ``@resources`` holds). So this test reads the
unit's ``SystemCallFilter=`` lines, expands systemd's groups with ``systemd-analyze
syscall-filter``, loads the same filter with libseccomp (through ``pyseccomp``) and runs
``privacybot ask`` under it, as systemd would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)
REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "deploy" / "privacybot.service"

# Runs in the child: load the filter, then become `python -m bot ...` (execve is allowed).
_LAUNCHER = """
import json, os, sys
import pyseccomp as seccomp
spec = json.loads(sys.argv[1])
refuse = seccomp.ERRNO(spec["errno"]) if spec["errno"] else seccomp.KILL_PROCESS
if spec["allow"] is not None:  # allow list: everything else is refused
    f, action, names = seccomp.SyscallFilter(refuse), seccomp.ALLOW, spec["allow"]
else:  # deny list
    f, action, names = seccomp.SyscallFilter(seccomp.ALLOW), refuse, spec["deny"]
for name in names:
    try:
        f.add_rule(action, name)
    except (ValueError, RuntimeError, OSError):
        pass  # not a system call on this architecture
f.load()
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


def syscall_groups(analyze: str) -> dict[str, list[str]]:
    """systemd's system-call groups (``@resources`` → its calls and sub-groups)."""
    out = subprocess.run(
        [analyze, "syscall-filter"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    groups: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.append(line.strip())
    return groups


def expand(names: list[str], groups: dict[str, list[str]]) -> set[str]:
    """System-call names, with every ``@group`` replaced by its members, recursively."""
    calls: set[str] = set()
    pending = list(names)
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name.startswith("@"):
            if name not in seen:
                seen.add(name)
                pending.extend(groups.get(name, []))
        else:
            calls.add(name)
    return calls


def unit_filter(unit: str, groups: dict[str, list[str]]) -> tuple[set[str] | None, set[str]]:
    """What the unit allows and denies, by systemd's rules.

    When the first ``SystemCallFilter=`` is an allow list, everything else is denied and later
    ``~`` lines take calls out of it; when it starts with ``~``, the lines are a deny list.

    Returns:
        (allowed, denied): ``allowed`` is None for a pure deny list.
    """
    allowed: set[str] | None = None
    denied: set[str] = set()
    for line in unit.splitlines():
        if not line.startswith("SystemCallFilter="):
            continue
        value = line.split("=", 1)[1].strip()
        deny = value.startswith("~")
        calls = expand(value.lstrip("~").split(), groups)
        if deny:
            denied |= calls
            if allowed is not None:
                allowed -= calls
        elif allowed is None and not denied:
            allowed = calls
        elif allowed is not None:
            allowed |= calls
    return allowed, denied


def _errno(unit: str) -> int | None:
    import errno

    for line in unit.splitlines():
        if line.startswith("SystemCallErrorNumber="):
            return int(getattr(errno, line.split("=", 1)[1].strip()))
    return None


def test_bot_starts_under_the_units_system_call_filter(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    pytest.importorskip("pyseccomp")
    unit = UNIT.read_text()
    allowed, denied = unit_filter(unit, syscall_groups(analyze))
    assert allowed, "the unit should allow-list @system-service"
    spec = {"allow": sorted(allowed), "deny": sorted(denied), "errno": _errno(unit)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVACYBOT_")}
    env["PYTHONPATH"] = str(REPO)
    env["PRIVACYBOT_DB"] = str(tmp_path / "bot.sqlite3")
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, json.dumps(spec),
         "-m", "bot", "ask", "--json", "how do I stop Grok training?"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert json.loads(done.stdout)["topic"] == "x.grok_training"


def test_the_filter_is_really_applied(tmp_path: Path) -> None:
    """The same launcher kills a program that makes a call the filter denies."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    pytest.importorskip("pyseccomp")
    groups = syscall_groups(analyze)
    allowed = expand(["@system-service"], groups) - {"setpriority"}
    spec = {"allow": sorted(allowed), "deny": [], "errno": None}
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, json.dumps(spec), "-c", "import os; os.nice(1)"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == -31, (done.returncode, done.stderr)  # SIGSYS
