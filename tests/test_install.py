"""Installing privacybot the ways a newcomer would: the README's quick start, a built wheel.

Both build a fresh virtual environment outside the repository and install from the package
registry (pip's cache makes a second run quick), so they are the slowest unit tests; they
are what tells us that a non-editable install carries the knowledge base and that the
README's first command works as written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
REPO = Path(__file__).resolve().parents[1]
QUESTION = "how do I stop Grok training?"


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of a person's shell: no knowledge override, no venv of ours on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRIVACYBOT_", "VIRTUAL_ENV"))}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env.pop("PYTHONPATH", None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def _copy_clone(target: Path) -> Path:
    """Copy the files git knows (what a fresh clone holds) into ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def quick_start_blocks(readme: str) -> list[str]:
    """The shell blocks of the README's "Quick start" section, in order."""
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def test_the_quick_start_is_two_commands_and_ci_runs_the_second() -> None:
    blocks = quick_start_blocks((REPO / "README.md").read_text())
    assert len(blocks) == 2, blocks
    install, test = (b.strip() for b in blocks)
    assert "python3 -m venv" in install and QUESTION in install
    # .ci/run calls exactly the README's test command.
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(rf"^exec {re.escape(test)}$", ci, re.M), ci


def test_every_package_under_bot_is_in_the_wheel() -> None:
    """pyproject lists packages (to map knowledge/ into the wheel): none may be forgotten."""
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "bot").rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)
    assert "bot.knowledge" in listed


def test_readme_quick_start_runs_as_written(tmp_path: Path) -> None:
    clone = _copy_clone(tmp_path / "clone")
    install = quick_start_blocks((REPO / "README.md").read_text())[0]
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", install],
        cwd=clone, env=_clean_env(), capture_output=True, text=True, timeout=800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Stop X training Grok" in done.stdout or "grok_settings" in done.stdout, done.stdout
    assert (clone / ".venv" / "bin" / "privacybot").exists()


def test_wheel_installed_elsewhere_answers_from_any_directory(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels),
         str(REPO)],
        cwd=tmp_path, env=_clean_env(), check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    wheel = next(wheels.glob("privacybot-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "-c", str(REPO / "constraints.txt"),
         str(wheel)],
        cwd=tmp_path, env=_clean_env(), check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    elsewhere = tmp_path / "somewhere"
    elsewhere.mkdir()
    ask = subprocess.run(
        [str(venv / "bin" / "privacybot"), "ask", "--json", QUESTION],
        cwd=elsewhere, env=_clean_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ask.returncode == 0, ask.stderr
    assert json.loads(ask.stdout)["topic"] == "x.grok_training"
    # kb check with no argument checks the knowledge base in use, inside the package.
    check = subprocess.run(
        [str(venv / "bin" / "privacybot"), "kb", "check"],
        cwd=elsewhere, env=_clean_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert str(venv) in check.stdout and "knowledge" in check.stdout, check.stdout
    # An editor's copy still wins when named in the environment.
    mine = tmp_path / "mine"
    shutil.copytree(REPO / "knowledge", mine)
    check = subprocess.run(
        [str(venv / "bin" / "privacybot"), "kb", "check"],
        cwd=elsewhere, env=_clean_env(PRIVACYBOT_KNOWLEDGE_DIR=str(mine)),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert str(mine) in check.stdout, check.stdout
