"""Settings: typed values from an injected environment, clear errors, masked secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from bot import cli
from bot.errors import ConfigError
from bot.settings import (
    EnvSection,
    Settings,
    channel_variables,
    default_db_path,
    load_environment,
    parse_env_file,
    secret_values,
    section_secrets,
    whole_number,
)

pytestmark = pytest.mark.timeout(30)


def test_defaults_from_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings.db_path == default_db_path()
    assert settings.db_path.name == "privacybot.sqlite3"
    assert settings.backend == "sqlite"
    assert settings.database_url is None and settings.salt is None
    assert settings.log_unanswered is False
    assert settings.user_retention_days == 90
    assert settings.unanswered_retention_days == 30
    assert (settings.health_host, settings.health_port) == ("127.0.0.1", 8089)
    assert settings.knowledge_dir is None
    assert (settings.log_level, settings.log_format) == ("INFO", "auto")


def test_every_variable_is_read(tmp_path: Path) -> None:
    env = {
        "PRIVACYBOT_DB": str(tmp_path / "bot.db"),
        "PRIVACYBOT_DATABASE_URL": "postgresql://bot:pw@db:5432/bot",
        "PRIVACYBOT_SALT": "0123456789abcdef0123",
        "PRIVACYBOT_LOG_UNANSWERED": "1",
        "PRIVACYBOT_USER_RETENTION_DAYS": "30",
        "PRIVACYBOT_HEALTH_HOST": "0.0.0.0",
        "PRIVACYBOT_HEALTH_PORT": "9000",
        "PRIVACYBOT_KNOWLEDGE_DIR": str(tmp_path),
        "PRIVACYBOT_LOG_LEVEL": "debug",
        "PRIVACYBOT_LOG_FORMAT": "JSON",
    }
    s = Settings.from_env(env)
    assert s.db_path == tmp_path / "bot.db"
    assert s.backend == "postgresql"
    assert s.database_url == SecretStr("postgresql://bot:pw@db:5432/bot")
    assert s.salt.get_secret_value() == "0123456789abcdef0123"
    assert s.log_unanswered is True
    assert s.user_retention_days == 30
    assert (s.health_host, s.health_port) == ("0.0.0.0", 9000)
    assert s.knowledge_dir == tmp_path
    assert (s.log_level, s.log_format) == ("DEBUG", "json")


def test_health_port_off_disables_the_server() -> None:
    assert Settings.from_env({"PRIVACYBOT_HEALTH_PORT": "off"}).health_port is None


def test_memory_backend() -> None:
    assert Settings.from_env({"PRIVACYBOT_DB": ":memory:"}).backend == "memory"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PRIVACYBOT_USER_RETENTION_DAYS", "ninety", "whole number"),
        ("PRIVACYBOT_USER_RETENTION_DAYS", "0", "between 1 and"),
        ("PRIVACYBOT_HEALTH_PORT", "70000", "between 0 and 65535"),
        ("PRIVACYBOT_LOG_UNANSWERED", "maybe", "expected 1 or 0"),
        ("PRIVACYBOT_LOG_LEVEL", "loud", "one of DEBUG"),
        ("PRIVACYBOT_LOG_FORMAT", "xml", "one of auto"),
        ("PRIVACYBOT_SALT", "short", "at least 16"),
        ("PRIVACYBOT_DATABASE_URL", "mysql://u:pw@h/db", "postgresql://"),
        ("PRIVACYBOT_KNOWLEDGE_DIR", "/nonexistent/knowledge", "not a directory"),
    ],
)
def test_invalid_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({name: value})
    assert str(info.value).startswith(name)
    assert message in str(info.value)


def test_invalid_database_url_error_hides_the_password() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"PRIVACYBOT_DATABASE_URL": "mysql://u:hunter2hunter2@h/db"})
    assert "hunter2" not in str(info.value)


def test_secrets_are_masked_in_repr_str_and_format() -> None:
    s = Settings.from_env(
        {
            "PRIVACYBOT_DATABASE_URL": "postgresql://bot:hunter2hunter2@db/bot",
            "PRIVACYBOT_SALT": "saltsaltsaltsaltsalt",
        }
    )
    for shown in (repr(s), str(s), f"{s.salt}", str(s.database_url), repr(s.salt)):
        assert "hunter2" not in shown
        assert "saltsaltsalt" not in shown
    assert s.salt.get_secret_value() == "saltsaltsaltsaltsalt"
    described = dict(s.describe())
    assert described["PRIVACYBOT_DATABASE_URL"] == "postgresql://bot:**********@db/bot"
    assert described["PRIVACYBOT_SALT"] == "**********"
    assert sorted(s.secret_values()) == sorted(
        ["postgresql://bot:hunter2hunter2@db/bot", "saltsaltsaltsaltsalt"]
    )


def test_channel_variables_are_listed_masked() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi",
        "TELEGRAM_MODE": "polling",
        "BLUESKY_HANDLE": "privacybot.bsky.social",
        "BLUESKY_APP_PASSWORD": "abcd-efgh-ijkl-mnop",
        "HOME": "/root",
    }
    assert channel_variables(env) == [
        ("BLUESKY_APP_PASSWORD", "**********"),
        ("BLUESKY_HANDLE", "privacybot.bsky.social"),
        ("TELEGRAM_BOT_TOKEN", "**********"),
        ("TELEGRAM_MODE", "polling"),
    ]
    assert set(secret_values(env)) == {
        "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi",
        "abcd-efgh-ijkl-mnop",
    }


def test_env_file_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "# comment\n\nexport A=1\nB = 'two words'\nC=\"3\"\nD=value # trailing\nE=\n",
        encoding="utf-8",
    )
    assert parse_env_file(path) == {"A": "1", "B": "two words", "C": "3", "D": "value", "E": ""}


def test_env_file_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\nthis is not a setting\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\.env:2: expected KEY=value"):
        parse_env_file(path)


def test_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    path = tmp_path / "bot.env"
    path.write_text("PRIVACYBOT_LOG_LEVEL=DEBUG\nTELEGRAM_BOT_TOKEN=from-file\n")
    merged = load_environment({"PRIVACYBOT_LOG_LEVEL": "ERROR"}, env_file=path)
    assert merged["PRIVACYBOT_LOG_LEVEL"] == "ERROR"
    assert merged["TELEGRAM_BOT_TOKEN"] == "from-file"


def test_env_file_named_by_variable(tmp_path: Path) -> None:
    path = tmp_path / "bot.env"
    path.write_text("PRIVACYBOT_HEALTH_PORT=off\n")
    merged = load_environment({"PRIVACYBOT_ENV_FILE": str(path)})
    assert Settings.from_env(merged).health_port is None
    with pytest.raises(ConfigError, match="PRIVACYBOT_ENV_FILE"):
        load_environment({"PRIVACYBOT_ENV_FILE": str(tmp_path / "missing.env")})


def test_dot_env_in_working_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("PRIVACYBOT_USER_RETENTION_DAYS=7\n")
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env(load_environment({})).user_retention_days == 7


def test_config_command_prints_masked_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PRIVACYBOT_DB", str(tmp_path / "bot.sqlite3"))
    monkeypatch.setenv("PRIVACYBOT_DATABASE_URL", "postgresql://bot:hunter2hunter2@db/bot")
    monkeypatch.setenv("PRIVACYBOT_SALT", "saltsaltsaltsaltsalt")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi")
    assert cli.main(["config"]) == 0
    out = capsys.readouterr().out
    assert "PRIVACYBOT_DATABASE_URL=postgresql://bot:**********@db/bot" in out
    assert "PRIVACYBOT_USER_RETENTION_DAYS=90" in out
    assert "TELEGRAM_BOT_TOKEN=**********" in out
    for secret in ("hunter2", "saltsaltsalt", "ABCDEFGHIJ"):
        assert secret not in out


def test_config_command_reports_an_invalid_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PRIVACYBOT_USER_RETENTION_DAYS", "forever")
    assert cli.main(["config"]) == cli.EXIT_INVALID
    assert "PRIVACYBOT_USER_RETENTION_DAYS" in capsys.readouterr().err


# -- issue 11: one configuration (pydantic-settings), one secret type (SecretStr) ----------


def test_settings_built_directly_read_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVACYBOT_HEALTH_PORT", "1234")
    monkeypatch.setenv("PRIVACYBOT_LOG_LEVEL", "ERROR")
    direct = Settings(db_path=Path(":memory:"))
    assert (direct.health_port, direct.log_level) == (8089, "INFO")
    assert Settings.from_env({}).health_port == 8089  # the mapping given, not os.environ


def test_settings_are_frozen_and_the_fixed_retention_is_not_read() -> None:
    s = Settings.from_env({"PRIVACYBOT_UNANSWERED_RETENTION_DAYS": "365"})
    assert s.unanswered_retention_days == 30
    with pytest.raises(ValidationError):
        s.health_port = 1  # type: ignore[misc]


def test_a_wrong_secret_is_not_shown_in_the_error() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"PRIVACYBOT_ADMIN_TOKEN": "short-hunter2"})
    assert str(info.value).startswith("PRIVACYBOT_ADMIN_TOKEN: use at least 16")
    assert "hunter2" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


class _Section(EnvSection):
    """A channel-like section, as adapters declare theirs."""

    model_config = SettingsConfigDict(env_prefix="EXAMPLE_")

    token: SecretStr
    port: Annotated[int, BeforeValidator(whole_number(1, 65535))] = 8443
    thread_cap: int = Field(default=8, validation_alias="EXAMPLE_MAX_POSTS_PER_THREAD")

    @field_validator("token")
    @classmethod
    def _looks_like_a_token(cls, value: SecretStr) -> SecretStr:
        if ":" not in value.get_secret_value():
            raise ValueError("EXAMPLE_TOKEN does not look like a bot token (<digits>:<key>)")
        return value


def test_a_section_reads_its_prefix_and_aliases_from_the_mapping() -> None:
    s = _Section.from_env(
        {"EXAMPLE_TOKEN": "1:abc", "EXAMPLE_PORT": "80", "EXAMPLE_MAX_POSTS_PER_THREAD": "3"}
    )
    assert (s.token.get_secret_value(), s.port, s.thread_cap) == ("1:abc", 80, 3)
    assert section_secrets(s) == ["1:abc"]
    assert _Section.variable("thread_cap") == "EXAMPLE_MAX_POSTS_PER_THREAD"
    assert _Section.variable("port") == "EXAMPLE_PORT"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "EXAMPLE_TOKEN is not set"),
        ({"EXAMPLE_TOKEN": "   "}, "EXAMPLE_TOKEN does not look like a bot token"),
        ({"EXAMPLE_TOKEN": "1:a", "EXAMPLE_PORT": "0"}, "EXAMPLE_PORT: must be between 1"),
        ({"EXAMPLE_TOKEN": "1:a", "EXAMPLE_PORT": "x"}, "EXAMPLE_PORT: expected a whole number"),
        (
            {"EXAMPLE_TOKEN": "1:a", "EXAMPLE_MAX_POSTS_PER_THREAD": "many"},
            "EXAMPLE_MAX_POSTS_PER_THREAD: Input should be a valid integer",
        ),
    ],
)
def test_a_section_error_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _Section.from_env(env)
    assert str(info.value).startswith(message)
