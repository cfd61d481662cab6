"""User-given artifact paths and folders: nothing outside the run's root ever gets through."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loopline.artifacts import check_relative_path, walk_folder
from loopline.errors import InvalidArgumentError, NotFoundError, UnsafePathError

GOOD = [
    (None, ""),
    ("", ""),
    (".", ""),
    ("./", ""),
    ("a", "a"),
    ("a/b/c.txt", "a/b/c.txt"),
    ("./a", "a"),
    ("a/./b", "a/b"),
    ("a//b", "a/b"),
    ("a/", "a"),
    ("..a", "..a"),
    ("a..b/...", "a..b/..."),
    ("~/x", "~/x"),
    ("ab:c", "ab:c"),
    ("with space/é ü 名前", "with space/é ü 名前"),
    ("x" * 1024, "x" * 1024),
]


@pytest.mark.parametrize(("path", "expected"), GOOD, ids=[repr(g[0])[:30] for g in GOOD])
def test_good_paths_are_normalised(path: str | None, expected: str) -> None:
    assert check_relative_path(path) == expected


BAD = [
    "..",
    "../a",
    "a/..",
    "a/../b",
    "a/../../b",
    "./../a",
    "a/./../../b",
    "/",
    "/etc/passwd",
    "//server/share",
    "C:\\x",
    "C:/x",
    "c:",
    "a\\b",
    "..\\a",
    "\\\\server\\share",
    "a\x00b",
    "\x00",
    "a\nb",
    "tab\there",
    "\x1f",
    "del\x7f",
    "c1\x85control",
]


@pytest.mark.parametrize("path", BAD, ids=[repr(b) for b in BAD])
def test_unsafe_paths_are_refused(path: str) -> None:
    with pytest.raises(UnsafePathError) as caught:
        check_relative_path(path)
    assert caught.value.code == "UNSAFE_PATH"
    assert caught.value.details["field"] == "artifact_path"


def test_too_long_and_wrong_types() -> None:
    with pytest.raises(InvalidArgumentError, match="1025"):
        check_relative_path("x" * 1025)
    with pytest.raises(InvalidArgumentError, match="string"):
        check_relative_path(5)  # type: ignore[arg-type]
    with pytest.raises(UnsafePathError, match="path"):
        check_relative_path("../x", argument="path")


# -- walking a folder ----------------------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """``<tmp>/x`` with a few files, beside a sibling ``<tmp>/x2`` that shares its prefix."""
    folder = tmp_path / "x"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / "b.txt").write_text("b")
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "c.txt").write_text("c")
    (folder / "sub" / "deeper" / "d.txt").write_text("d")
    sibling = tmp_path / "x2"
    sibling.mkdir()
    (sibling / "secret.txt").write_text("secret")
    (tmp_path / "outside.txt").write_text("outside")
    return folder


def _walk(folder: Path) -> list[str]:
    return [relative for _, relative in walk_folder(folder)]


def test_walk_yields_every_file_in_order(root: Path) -> None:
    found = list(walk_folder(root))
    assert [r for _, r in found] == ["a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt"]
    assert all(path.read_text() == path.name[0] for path, _ in found)


def test_walk_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        _walk(tmp_path / "nope")
    (tmp_path / "file").write_text("")
    with pytest.raises(NotFoundError):
        _walk(tmp_path / "file")


ESCAPES = {
    "file to a file outside": ("link.txt", "../outside.txt"),
    "absolute file link": ("link.txt", "{tmp}/outside.txt"),
    "dir to the parent": ("up", ".."),
    "dir to the root of the filesystem": ("slash", "/"),
    "file in the prefix-sharing sibling": ("s.txt", "../x2/secret.txt"),
    "dir to the prefix-sharing sibling": ("sib", "../x2"),
    "absolute link to the sibling": ("sib", "{tmp}/x2"),
    "nested link climbing out": ("sub/deeper/out.txt", "../../../outside.txt"),
}


@pytest.mark.parametrize(("name", "target"), ESCAPES.values(), ids=list(ESCAPES))
def test_symlinks_out_of_the_folder_are_refused(
    root: Path, tmp_path: Path, name: str, target: str
) -> None:
    os.symlink(target.format(tmp=tmp_path), root / name)
    with pytest.raises(UnsafePathError, match="symlink"):
        _walk(root)


def test_a_chain_of_symlinks_that_ends_outside_is_refused(root: Path) -> None:
    os.symlink("../../outside.txt", root / "sub" / "hop2")
    os.symlink("sub/hop2", root / "hop1")  # points inside, at a link that points outside
    with pytest.raises(UnsafePathError):
        _walk(root)


def test_symlinks_that_stay_inside_are_allowed(root: Path) -> None:
    os.symlink("a.txt", root / "alias.txt")
    os.symlink("../a.txt", root / "sub" / "up-alias.txt")
    os.symlink(str(root / "sub" / "c.txt"), root / "absolute-alias.txt")
    os.symlink("sub", root / "subdir-link")  # a folder link inside: allowed, not followed twice
    os.symlink(".", root / "self")
    found = {relative: path for path, relative in walk_folder(root)}
    assert found["alias.txt"].read_text() == "a"
    assert found["sub/up-alias.txt"].read_text() == "a"
    assert found["absolute-alias.txt"].read_text() == "c"
    assert "sub/c.txt" in found


def test_the_folder_itself_may_be_a_symlink(root: Path, tmp_path: Path) -> None:
    link = tmp_path / "link-to-x"
    os.symlink(root, link)
    os.symlink(str(root / "a.txt"), root / "alias.txt")  # inside the real folder
    assert _walk(link) == ["a.txt", "alias.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt"]


def test_broken_symlinks_and_loops_are_refused_cleanly(root: Path) -> None:
    os.symlink("missing.txt", root / "dangling.txt")
    with pytest.raises(UnsafePathError, match=r"dangling\.txt"):
        _walk(root)
    (root / "dangling.txt").unlink()
    os.symlink("loop-b", root / "loop-a")
    os.symlink("loop-a", root / "loop-b")
    with pytest.raises(UnsafePathError, match="loop-a"):
        _walk(root)


@pytest.mark.timeout(10)
def test_special_files_are_refused(root: Path) -> None:
    """A named pipe would block the reader forever."""
    os.mkfifo(root / "pipe")
    with pytest.raises(InvalidArgumentError, match="pipe"):
        _walk(root)
