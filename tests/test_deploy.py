"""The deploy/ files: the systemd unit verifies, the others say what the code reads."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = (DEPLOY / "privacybot.service").read_text()
    # verify checks that ExecStart exists; the venv is not installed here.
    unit = unit.replace("/opt/privacybot/venv/bin/privacybot", sys.executable)
    path = tmp_path / "privacybot.service"
    path.write_text(unit)
    done = subprocess.run(
        [analyze, "verify", str(path)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    # Unknown or misspelt keys are only warnings for systemd: treat them as errors.
    assert "privacybot.service" not in done.stderr, done.stderr


def test_systemd_unit_is_hardened() -> None:
    unit = (DEPLOY / "privacybot.service").read_text()
    for line in (
        "User=privacybot",
        "EnvironmentFile=/etc/privacybot/privacybot.env",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/privacybot",
        "Restart=on-failure",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ):
        assert re.search(rf"^{re.escape(line)}$", unit, re.M), line


def test_dockerfile_runs_unprivileged_with_healthcheck_and_kb() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim@sha256:[0-9a-f]{64}$", text, re.M)
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    assert re.search(r"^USER privacybot", text, re.M)
    assert re.search(r"^HEALTHCHECK .*", text, re.M) and "/healthz" in text
    # Dependencies from the hashed pins; the knowledge base from inside the wheel.
    assert "--require-hashes -r /tmp/requirements.txt" in text
    assert "--no-deps /wheels/*.whl" in text
    assert "/app/knowledge" not in text.split("RUN privacybot kb check")[0].split("FROM")[-1]
    assert re.search(r"^RUN privacybot kb check$", text, re.M)


def test_every_image_is_pinned_by_digest() -> None:
    doc = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    for name, service in doc["services"].items():
        if "image" in service and "build" not in service:
            assert re.search(r"@sha256:[0-9a-f]{64}$", service["image"]), name


def _pins(text: str) -> dict[str, str]:
    return {
        m[0].lower().replace("_", "-"): m[1]
        for m in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)
    }


def test_deploy_requirements_have_hashes_and_the_constraints_versions() -> None:
    text = (DEPLOY / "requirements.txt").read_text()
    pins = _pins(text)
    constraints = _pins((REPO / "constraints.txt").read_text())
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text.split("\n", 6)[-1])
    assert all("--hash=sha256:" in b for b in blocks if re.match(r"[A-Za-z0-9_.-]+==", b))
    assert {n: v for n, v in pins.items() if constraints.get(n) != v} == {}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["postgres"]]
    names = {re.split(r"[<>=!\[ ;]", d, maxsplit=1)[0].lower().replace("_", "-") for d in wanted}
    assert names <= set(pins), sorted(names - set(pins))


def test_compose_has_the_bot_a_volume_and_a_postgres_profile() -> None:
    doc = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    bot = doc["services"]["bot"]
    assert bot["build"]["dockerfile"] == "deploy/Dockerfile"
    assert any(v.endswith(":/data") for v in bot["volumes"])
    assert "privacybot-data" in doc["volumes"]
    assert doc["services"]["postgres"]["profiles"] == ["postgres"]
    assert bot["depends_on"]["postgres"]["required"] is False


def test_env_example_lists_every_variable_the_code_reads() -> None:
    example = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.M))
    sources = [REPO / "bot" / "settings.py", *sorted((REPO / "bot" / "adapters").glob("*.py"))]
    read: set[str] = set()
    for source in sources:
        read |= set(re.findall(r"\b((?:PRIVACYBOT|TELEGRAM|BLUESKY)_[A-Z0-9_]+[A-Z0-9])\b",
                               source.read_text()))  # fmt: skip
    assert read <= listed, sorted(read - listed)
