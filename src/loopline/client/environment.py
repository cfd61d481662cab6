"""What a new run records about the process that starts it: code version and environment.

The code version is the git commit of the working directory and whether the tree has uncommitted
changes; the environment is the Python version, the platform and the installed packages. The
package list is read once per process.
"""

from __future__ import annotations

import getpass
import os
import platform
import subprocess
import sys
from importlib import metadata

__all__ = ["TAG_PREFIX", "code_version_tags", "environment_tags", "installed_packages", "os_user"]

TAG_PREFIX = "loopline."
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
    """``loopline.source.git_commit``, ``.git_branch`` and ``.git_dirty`` (empty outside git).

    One ``git status`` call gives all three, so asking on every new run stays cheap (a few
    milliseconds) and the dirty flag is never stale.
    """
    status = _git(
        "status", "--porcelain=v2", "--branch", "--untracked-files=no", cwd=cwd or os.getcwd()
    )
    if status is None:
        return {}
    headers: dict[str, str] = {}
    dirty = False
    for line in status.splitlines():
        if line.startswith("# branch."):
            name, _, value = line[len("# branch.") :].partition(" ")
            headers[name] = value
        elif line and not line.startswith("#"):
            dirty = True
    commit = headers.get("oid", "(initial)")
    if commit == "(initial)":
        return {}
    tags = {
        f"{TAG_PREFIX}source.git_commit": commit,
        f"{TAG_PREFIX}source.git_dirty": "true" if dirty else "false",
    }
    branch = headers.get("head")
    if branch and branch != "(detached)":
        tags[f"{TAG_PREFIX}source.git_branch"] = branch
    return tags


def os_user() -> str:
    """The operating-system user of this process (``unknown`` when it has none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def environment_tags() -> dict[str, str]:
    """Python version, platform, user and entry point of this process."""
    user = os_user()
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
