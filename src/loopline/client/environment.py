"""What a new run records about the process that starts it: code version and environment.

The code version is the git commit of the working directory and whether the tree has uncommitted
changes; the environment is the Python version, the platform and the installed packages. Git is
asked at most once per ``_TTL`` seconds, and the package list once per process, so starting many
runs in a loop stays cheap.
"""

from __future__ import annotations

import getpass
import os
import platform
import subprocess
import sys
import time
from importlib import metadata

__all__ = ["TAG_PREFIX", "code_version_tags", "environment_tags", "installed_packages"]

TAG_PREFIX = "loopline."
_TTL = 10.0
_git_cache: tuple[float, str, dict[str, str]] | None = None
_packages: str | None = None


def _git(*args: str, cwd: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def code_version_tags(cwd: str | None = None) -> dict[str, str]:
    """``loopline.source.git_commit``, ``.git_branch`` and ``.git_dirty`` (empty outside git)."""
    global _git_cache
    folder = cwd or os.getcwd()
    now = time.monotonic()
    if _git_cache is not None and _git_cache[1] == folder and now - _git_cache[0] < _TTL:
        return dict(_git_cache[2])
    tags: dict[str, str] = {}
    commit = _git("rev-parse", "HEAD", cwd=folder)
    if commit:
        status = _git("status", "--porcelain", "--untracked-files=no", cwd=folder)
        tags[f"{TAG_PREFIX}source.git_commit"] = commit
        tags[f"{TAG_PREFIX}source.git_dirty"] = "true" if status else "false"
        branch = _git("rev-parse", "--abbrev-ref", "HEAD", cwd=folder)
        if branch:
            tags[f"{TAG_PREFIX}source.git_branch"] = branch
    _git_cache = (now, folder, tags)
    return dict(tags)


def environment_tags() -> dict[str, str]:
    """Python version, platform, user and entry point of this process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {
        f"{TAG_PREFIX}python_version": platform.python_version(),
        f"{TAG_PREFIX}platform": platform.platform(terse=True),
        f"{TAG_PREFIX}user": user,
        f"{TAG_PREFIX}source.name": os.path.basename(sys.argv[0]) if sys.argv else "",
    }


def installed_packages() -> str:
    """``name==version`` lines of every installed distribution, sorted (a requirements file)."""
    global _packages
    if _packages is None:
        seen: dict[str, str] = {}
        for dist in metadata.distributions():
            name = dist.metadata["Name"]
            if name:
                seen.setdefault(name.lower(), f"{name}=={dist.version}")
        _packages = "\n".join(seen[k] for k in sorted(seen)) + "\n"
    return _packages
