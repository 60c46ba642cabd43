"""The knowledge loader and ``privacybot kb check`` on valid and broken files."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.kb.loader import KnowledgeError, load_knowledge

VALID = Path(__file__).parent / "fixtures" / "kb_valid"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(VALID, target)
    return target


def _edit(kb_dir: Path, change) -> Path:
    path = kb_dir / "demo.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def _problems(kb_dir: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_dir, today=dt.date(2026, 11, 26))
    return [str(p) for p in info.value.problems]


def test_valid_fixture_loads() -> None:
    kb = load_knowledge(VALID, today=dt.date(2026, 11, 26))
    assert list(kb.topics) == ["demo.training", "demo.delete"]
    assert kb.platforms == {"demo": "Demo"}
    assert kb.warnings == []


def test_missing_field_names_file_topic_and_field(kb_dir: Path) -> None:
    path = _edit(kb_dir, lambda d: d["topics"][0]["en"].pop("summary"))
    assert _problems(kb_dir) == [f"{path}: demo.training: en.summary: missing"]


def test_missing_language(kb_dir: Path) -> None:
    path = _edit(kb_dir, lambda d: d["topics"][1].pop("fr"))
    assert _problems(kb_dir) == [f"{path}: demo.delete: fr: missing"]


def test_missing_sources_and_last_verified(kb_dir: Path) -> None:
    def change(d: dict) -> None:
        d["topics"][1].pop("sources")
        d["topics"][1].pop("last_verified")

    path = _edit(kb_dir, change)
    assert sorted(_problems(kb_dir)) == [
        f"{path}: demo.delete: last_verified: missing",
        f"{path}: demo.delete: sources: missing",
    ]


def test_duplicate_id(kb_dir: Path) -> None:
    path = _edit(kb_dir, lambda d: d["topics"][1].update(id="demo.training"))
    problems = _problems(kb_dir)
    assert f"{path}: demo.training: id: duplicate id (also in {path})" in problems


def test_example_shared_by_two_topics(kb_dir: Path) -> None:
    path = _edit(
        kb_dir, lambda d: d["topics"][1]["en"]["examples"].append("Demo AI training opt out")
    )
    assert _problems(kb_dir) == [
        f"{path}: demo.delete: en.examples: example 'Demo AI training opt out' is also an example"
        " of demo.training"
    ]


def test_bad_url(kb_dir: Path) -> None:
    path = _edit(kb_dir, lambda d: d["topics"][0].update(url="x.com/settings"))
    (problem,) = _problems(kb_dir)
    assert problem.startswith(f"{path}: demo.training: url: Value error, not an absolute")


def test_bad_yaml(kb_dir: Path) -> None:
    path = kb_dir / "demo.yaml"
    path.write_text("platform: demo\ntopics: [\n  - id: oops\n")
    (problem,) = _problems(kb_dir)
    assert problem.startswith(f"{path}: -: -: invalid YAML (line ")


def test_surface_without_steps_or_note(kb_dir: Path) -> None:
    path = _edit(kb_dir, lambda d: d["topics"][0]["en"]["steps"].update(android={}))
    (problem,) = _problems(kb_dir)
    assert problem.startswith(f"{path}: demo.training: en.steps.android: Value error, needs steps")


def test_unknown_related_topic(kb_dir: Path) -> None:
    path = _edit(kb_dir, lambda d: d["topics"][0].update(related=["demo.nope"]))
    assert _problems(kb_dir) == [f"{path}: demo.training: related: unknown topic 'demo.nope'"]


def test_stale_topic_is_a_warning_not_an_error(kb_dir: Path) -> None:
    kb = load_knowledge(kb_dir, today=dt.date(2027, 6, 1))
    assert [w.field for w in kb.warnings] == ["last_verified", "last_verified"]
    assert "not verified for 212 days" in str(kb.warnings[0])


def test_kb_check_command_exit_codes(kb_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "check", str(kb_dir)]) == 0
    assert "2 topics OK" in capsys.readouterr().out
    path = _edit(kb_dir, lambda d: d["topics"][0].pop("en"))
    assert main(["kb", "check", str(kb_dir)]) == 2
    assert capsys.readouterr().err.strip() == f"{path}: demo.training: en: missing"


def test_every_command_refuses_a_broken_knowledge_base(kb_dir: Path) -> None:
    """Not only ``kb check``: ``ask`` exits non-zero too, without a traceback."""
    _edit(kb_dir, lambda d: d["topics"][0].pop("sources"))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--kb", str(kb_dir), "ask", "stop demo training"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().endswith("demo.training: sources: missing")


def test_repository_knowledge_base_is_valid() -> None:
    kb = load_knowledge(REPO / "knowledge")
    required = {
        "x.grok_training", "x.third_party_sharing", "x.grok_history", "x.policy_update",
        "x.protect_posts", "x.delete_account", "x.download_archive", "x.ad_personalization",
        "bluesky.ai_training", "meta.ai_training", "linkedin.ai_training",
        "google.gemini_activity", "openai.chatgpt_training", "bot.help", "bot.privacy",
    }  # fmt: skip
    assert required <= set(kb.topics)


def test_requires_must_be_met_by_every_example(kb_dir: Path) -> None:
    path = _edit(kb_dir, lambda d: d["topics"][1].update(requires=["close"]))
    problems = _problems(kb_dir)
    assert (
        f"{path}: demo.delete: en.examples: example 'delete my demo account' contains none"
        " of the 'requires' phrases" in problems
    )
    assert not any("'close demo account for good'" in p for p in problems)
