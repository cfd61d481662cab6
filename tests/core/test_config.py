"""Settings: resolution rules, environment variables, and documentation of every setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopline.config import Settings, is_remote_uri

DOCS = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text()
    for name in Settings.model_fields:
        assert f"`LOOPLINE_{name.upper()}`" in text, name


def test_embedded_default_lives_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path}/loopline.db"
    assert settings.resolved_artifact_root() == str(tmp_path / "artifacts")


def test_folder_uri_holds_database_and_artifacts(tmp_path: Path) -> None:
    settings = Settings(uri=str(tmp_path))
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path}/loopline.db"
    assert settings.resolved_artifact_root() == str(tmp_path / "artifacts")


def test_explicit_urls_win(tmp_path: Path) -> None:
    settings = Settings(
        uri=str(tmp_path), database_url="postgresql://x@h/db", artifact_root="s3://b/p"
    )
    assert settings.resolved_database_url() == "postgresql://x@h/db"
    assert settings.resolved_artifact_root() == "s3://b/p"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOOPLINE_HOME", str(tmp_path))
    monkeypatch.setenv("LOOPLINE_METRIC_BUFFER_SIZE", "17")
    monkeypatch.setenv("LOOPLINE_CAPTURE_ENVIRONMENT", "false")
    settings = Settings()
    assert settings.home == tmp_path
    assert settings.metric_buffer_size == 17
    assert settings.capture_environment is False


def test_invalid_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPLINE_METRIC_BUFFER_SIZE", "-3")
    with pytest.raises(ValueError, match="metric_buffer_size"):
        Settings()


@pytest.mark.parametrize(
    ("uri", "remote"),
    [("http://127.0.0.1:8080", True), ("https://x", True), ("/tmp/x", False), (None, False),
     ("sqlite:///x.db", False)],
)  # fmt: skip
def test_is_remote_uri(uri: str | None, remote: bool) -> None:
    assert is_remote_uri(uri) is remote
