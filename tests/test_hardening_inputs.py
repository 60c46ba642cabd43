"""Small leaks and misreadings from issue 12: a query-string password, invisible characters."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from bot.core import Core
from bot.kb.loader import default_dir, load_knowledge
from bot.logging_setup import RedactingFilter
from bot.messages import IncomingMessage
from bot.settings import mask_url

pytestmark = pytest.mark.timeout(60)
KB = load_knowledge(default_dir())
QUESTION = "how do i stop grok training on my posts"


def test_config_masks_a_password_in_the_query_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PRIVACYBOT_DB", str(tmp_path / "bot.sqlite3"))
    monkeypatch.setenv(
        "PRIVACYBOT_DATABASE_URL",
        "postgresql://bot@db/bot?sslmode=require&password=hunter2hunter2&sslpassword=keypass99",
    )
    monkeypatch.setenv("PRIVACYBOT_SALT", "saltsaltsaltsaltsalt")
    assert cli.main(["config"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and "keypass99" not in out
    assert "sslmode=require" in out  # what is not secret stays readable
    assert "password=**********" in out


def test_log_lines_mask_a_query_string_password() -> None:
    redact = RedactingFilter().redact
    shown = redact("cannot connect to postgresql://bot@db/bot?password=hunter2hunter2&x=1")
    assert "hunter2" not in shown and "x=1" in shown
    assert "hunter2" not in mask_url("postgres://db/bot?PassWord=hunter2hunter2")


@pytest.mark.parametrize(
    "invisible",
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u202e", "\u2066", "\u00ad"],
)
async def test_invisible_format_characters_do_not_change_the_answer(invisible: str) -> None:
    core = Core(KB)
    plain = await core.handle(IncomingMessage(QUESTION))
    hidden = await core.handle(IncomingMessage(invisible.join(QUESTION)))
    assert (hidden.kind, hidden.language, hidden.topic_id) == (
        plain.kind,
        plain.language,
        plain.topic_id,
    )
    assert hidden.topic_id == "x.grok_training" and hidden.language == "en"
