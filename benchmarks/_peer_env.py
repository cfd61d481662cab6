"""Pinned virtualenvs for the peer tools that loopline is benchmarked against.

Each peer (MLflow today, others later) runs from its own virtualenv under
``benchmarks/.venvs/<name>``, created on first use, so that its dependencies never
leak into loopline's interpreter. A venv is reused while its recorded requirements
match the requested ones; otherwise it is rebuilt from scratch.

Usable as a script too: ``python benchmarks/_peer_env.py mlflow-3.17.2 mlflow==3.17.2``.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

VENVS_DIR = Path(__file__).resolve().parent / ".venvs"
_STAMP = "loopline-bench-requirements.json"


def venv_python(venv_dir: Path) -> Path:
    """The interpreter inside ``venv_dir`` (POSIX layout, then Windows layout)."""
    posix = venv_dir / "bin" / "python"
    return posix if posix.exists() else venv_dir / "Scripts" / "python.exe"


def _stamp_matches(venv_dir: Path, requirements: Sequence[str]) -> bool:
    stamp = venv_dir / _STAMP
    if not stamp.is_file() or not venv_python(venv_dir).exists():
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return bool(recorded == sorted(requirements))


@contextmanager
def _locked(venv_dir: Path) -> Iterator[None]:
    """Serialise venv creation between concurrent benchmark runs."""
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(venv_dir.parent / f".{venv_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run_pip(command: list[str]) -> None:
    """Run pip quietly; show its output only when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError(f"pip failed ({done.returncode}): {' '.join(command)}")


def _build(venv_dir: Path, requirements: Sequence[str]) -> None:
    if venv_dir.exists():
        shutil.rmtree(venv_dir)
    print(f"[peer-env] creating {venv_dir} with {' '.join(requirements)} ...", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    pip = [str(venv_python(venv_dir)), "-m", "pip", "install", "--quiet"]
    _run_pip([*pip, "--upgrade", "pip"])
    _run_pip([*pip, *requirements])
    (venv_dir / _STAMP).write_text(json.dumps(sorted(requirements)))
    print(f"[peer-env] {venv_dir.name} ready", file=sys.stderr)


def ensure_venv(name: str, requirements: Sequence[str]) -> Path:
    """Return the python of venv ``name``, creating it with ``requirements`` if needed."""
    venv_dir = VENVS_DIR / name
    if _stamp_matches(venv_dir, requirements):
        return venv_python(venv_dir)
    with _locked(venv_dir):
        if not _stamp_matches(venv_dir, requirements):
            _build(venv_dir, requirements)
    return venv_python(venv_dir)


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        print("usage: _peer_env.py NAME REQUIREMENT [REQUIREMENT ...]", file=sys.stderr)
        return 2
    print(ensure_venv(argv[0], argv[1:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
