"""SQL tables in and out, on SQLite and on PostgreSQL (127.0.0.1:5432)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from scoring_support import COLUMNS, POLICY, Store

import loopline
from loopline.errors import AlreadyExistsError, InvalidArgumentError


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def data_url(
    request: pytest.FixtureRequest, tmp_path: Path, new_pg_database: Callable[..., str]
) -> str:
    if request.param == "postgresql":
        return new_pg_database()
    return f"sqlite:///{tmp_path}/shop.db"


def test_sql_table_in_and_out(sdk: Store, data_url: str) -> None:
    engine = sa.create_engine(data_url)
    try:
        sdk.rows.to_sql("customers", engine, index=False)
        summary = loopline.score(
            "models:/gbc/1", f"sql://{data_url}?table=customers",
            f"sql://{data_url}?table=scores", policy=POLICY, key_column="id", chunk_size=70,
            progress=False,
        )  # fmt: skip
        assert (summary.rows, summary.logged) == (300, 300)
        written = pd.read_sql("SELECT * FROM scores ORDER BY id", engine)
        reference = loopline.score("models:/gbc/1", sdk.rows, policy=POLICY, key_column="id",
                                   log=False, progress=False)  # fmt: skip
        reference = reference.sort_values("id").reset_index(drop=True)
        assert written["id"].tolist() == reference["id"].tolist()
        assert np.allclose(written["proba_1"], reference["proba_1"], rtol=0, atol=0)
        assert written["action"].tolist() == reference["action"].tolist()
        assert written["queue"].tolist() == reference["queue"].tolist()
        assert pd.read_json(pd.io.common.StringIO(written["ranked"][0])).shape[1] == 2

        query = (data_url, "SELECT * FROM customers WHERE segment = 'vip'")
        out = loopline.score("models:/gbc/1", query, log=False, progress=False)
        assert out.num_rows == 60
        expected = sdk.gbc1.predict_proba(sdk.rows[sdk.rows.segment == "vip"][COLUMNS])[:, 1]
        assert np.array_equal(out.column("proba_1").to_numpy(), expected)

        with pytest.raises(AlreadyExistsError, match="exists"):
            loopline.score("models:/gbc/1", (data_url, "customers"),
                           f"sql://{data_url}?table=scores", log=False, progress=False)  # fmt: skip
        with pytest.raises(InvalidArgumentError, match=r"no_such_table|does not exist|no such"):
            loopline.score("models:/gbc/1", (data_url, "no_such_table"), log=False,
                           progress=False)  # fmt: skip
    finally:
        engine.dispose()
