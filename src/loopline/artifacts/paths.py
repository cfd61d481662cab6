"""Checks on paths that come from users, before any of them reaches a filesystem."""

from __future__ import annotations

import os
import posixpath
import unicodedata
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from loopline.errors import InvalidArgumentError, NotFoundError, UnsafePathError

__all__ = ["check_relative_path", "walk_folder"]

MAX_PATH_LENGTH = 1024


def check_relative_path(path: str | None, *, argument: str = "artifact_path") -> str:
    """Normalise an artifact path to ``a/b/c`` form, refusing anything that could escape.

    Absolute paths, drive letters, ``..`` components, backslashes, NUL and control characters are
    refused with :class:`UnsafePathError`. ``None``, ``""`` and ``"."`` mean the root (``""``).

    Examples:
        >>> check_relative_path("plots/./roc.png")
        'plots/roc.png'
        >>> check_relative_path("../etc/passwd")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        loopline.errors.UnsafePathError: The artifact_path '../etc/passwd' climbs out ...
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise InvalidArgumentError(
            f"The {argument} must be a string; got {type(path).__name__}.", field=argument
        )
    if any(unicodedata.category(ch) == "Cc" for ch in path):  # C0, DEL and C1 controls
        raise UnsafePathError(
            f"The {argument} {path!r} contains a control character.", field=argument
        )
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafePathError(
            f"The {argument} {path!r} is not valid Unicode (it holds a lone surrogate).",
            field=argument,
        ) from None
    if "\\" in path:
        raise UnsafePathError(
            f"The {argument} {path!r} contains a backslash; use '/' to separate folders.",
            field=argument,
        )
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise UnsafePathError(
            f"The {argument} {path!r} is absolute; artifact paths are relative to the run.",
            field=argument,
        )
    parts = [p for p in PurePosixPath(path).parts if p != "."]
    if ".." in parts:
        raise UnsafePathError(
            f"The {argument} {path!r} climbs out of the run's artifact root with '..'.",
            field=argument,
        )
    clean = posixpath.join(*parts) if parts else ""
    if len(clean) > MAX_PATH_LENGTH:
        raise InvalidArgumentError(
            f"The {argument} is {len(clean)} characters long; at most {MAX_PATH_LENGTH} allowed.",
            field=argument,
        )
    return clean


def walk_folder(folder: str | os.PathLike[str]) -> Iterator[tuple[Path, str]]:
    """Yield ``(file, relative posix path)`` for every file under ``folder``.

    A symlink whose target lies outside ``folder`` is refused with :class:`UnsafePathError` before
    anything is yielded for it, so logging a folder can never copy files from elsewhere.
    """
    root = Path(folder)
    if not root.is_dir():
        raise NotFoundError(f"The folder {str(folder)!r} does not exist.", path=str(folder))
    real_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        current = Path(dirpath)
        for name in sorted(dirnames):
            _check_inside(current / name, real_root, root)
        dirnames.sort()
        for name in sorted(filenames):
            file = current / name
            _check_inside(file, real_root, root)
            if not file.is_file():
                raise InvalidArgumentError(
                    f"{file} is not a regular file (a pipe, socket or device); not reading it.",
                    field="local_dir",
                )
            yield file, file.relative_to(root).as_posix()


def _check_inside(path: Path, real_root: Path, root: Path) -> None:
    if not path.is_symlink():
        return
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
        raise UnsafePathError(
            f"{path} is a broken symlink or a symlink loop; refusing to follow it.",
            field="local_dir",
        ) from None
    if target != real_root and real_root not in target.parents:
        raise UnsafePathError(
            f"{path} is a symlink to {target}, outside the folder {root}; refusing to follow it.",
            field="local_dir",
        )
