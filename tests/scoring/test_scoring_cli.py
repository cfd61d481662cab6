"""``loopline score`` and ``loopline rescore`` against the test store, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import yaml
from scoring_support import POLICY, Store
from typer.testing import CliRunner

from loopline.cli.main import app


def _run(store: Store, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--uri", str(store.path)], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_score_and_rescore_commands(store: Store, tmp_path: Path) -> None:
    store.rows.to_parquet(tmp_path / "in.parquet")
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(POLICY))
    code, out, _err = _run(
        store, "score", "models:/gbc@prod", str(tmp_path / "in.parquet"),
        str(tmp_path / "out.parquet"), "--policy", str(tmp_path / "policy.yaml"),
        "--key-column", "id", "--chunk-size", "100", "--quiet", "--json",
    )  # fmt: skip
    assert code == 0, (out, _err)
    summary = json.loads(out)
    assert (summary["rows"], summary["logged"], summary["chunks"]) == (300, 300, 3)
    assert summary["deployment"] == "batch:gbc"
    assert summary["model_version"] == 1
    written = pq.read_table(tmp_path / "out.parquet")
    assert written.column("id").to_pylist() == store.rows["id"].tolist()
    assert {"action", "rule", "queue", "control", "outlier"} <= set(written.column_names)

    code, out, _err = _run(store, "rescore", "models:/gbc/1", "--quiet", "--no-log", "--json")
    assert code == 0, (out, _err)
    assert json.loads(out)["rescored"] >= 300


def test_errors_exit_1_with_the_message(store: Store, tmp_path: Path) -> None:
    store.rows.drop(columns=["f5"]).to_csv(tmp_path / "bad.csv", index=False)
    cases = [
        (("models:/gbc/1", str(tmp_path / "missing.parquet")), "does not exist"),
        (("models:/nope/1", str(tmp_path / "bad.csv")), "nope"),
        (("models:/gbc/1", str(tmp_path / "bad.csv")), "['f5']"),
        (("models:/gbc/1", "sql://notadb://x?table=t"), "database URL"),
        (("models:/gbc/1", "sql://sqlite:///x.db"), "table="),
    ]
    for args, message in cases:
        code, out, err = _run(store, "score", *args, str(tmp_path / "o.parquet"), "--quiet")
        assert code == 1, (args, out)
        assert message in err, (args, err)
        assert "Traceback" not in err
    assert not (tmp_path / "o.parquet").exists()
