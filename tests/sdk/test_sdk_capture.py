"""What a new run records about its process: code version (git) and environment."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import pytest

import loopline

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with one committed file, made the working directory."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "train.py").write_text("print('v1')\n")
    _git(root, "add", "train.py")
    _git(root, "commit", "-q", "-m", "first")
    monkeypatch.chdir(root)
    return root


def _tags(client: loopline.Client) -> dict[str, str]:
    with loopline.start_run() as run:
        pass
    return client.get_run(run.id).data.tags


def test_git_commit_of_a_clean_tree(experiment: Any, client: loopline.Client, repo: Path) -> None:
    tags = _tags(client)

    assert tags["loopline.source.git_commit"] == _git(repo, "rev-parse", "HEAD")
    assert tags["loopline.source.git_dirty"] == "false"
    assert tags["loopline.source.git_branch"] == _git(repo, "rev-parse", "--abbrev-ref", "HEAD")


def test_modified_tracked_file_makes_the_tree_dirty(
    experiment: Any, client: loopline.Client, repo: Path
) -> None:
    (repo / "train.py").write_text("print('v2')\n")

    tags = _tags(client)

    assert tags["loopline.source.git_commit"] == _git(repo, "rev-parse", "HEAD")
    assert tags["loopline.source.git_dirty"] == "true"


def test_dirty_flag_follows_an_edit_between_two_runs(
    experiment: Any, client: loopline.Client, repo: Path
) -> None:
    assert _tags(client)["loopline.source.git_dirty"] == "false"

    (repo / "train.py").write_text("print('v2')\n")

    assert _tags(client)["loopline.source.git_dirty"] == "true"


def test_no_git_tags_outside_a_repository(
    experiment: Any, client: loopline.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))

    tags = _tags(client)

    assert not any(key.startswith("loopline.source.git") for key in tags)


def test_python_version_and_packages(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as run:
        pass

    assert client.get_run(run.id).data.tags["loopline.python_version"] == (
        platform.python_version()
    )
    requirements = client.read_artifact(run.id, "environment/requirements.txt").decode()
    lines = requirements.splitlines()
    assert any(line.startswith(f"loopline=={loopline.__version__}") for line in lines)
    names = [line.partition("==")[0].lower() for line in lines]
    assert names == sorted(set(names))


def test_capture_can_be_turned_off(
    client: loopline.Client, monkeypatch: pytest.MonkeyPatch, uri: str
) -> None:
    monkeypatch.setenv("LOOPLINE_CAPTURE_ENVIRONMENT", "false")
    loopline.set_uri(uri)  # settings are read when the SDK builds its client

    with loopline.start_run(tags={"mine": "1"}) as run:
        pass

    assert client.get_run(run.id).data.tags == {"mine": "1"}
    assert client.list_artifacts(run.id) == []
