"""``loopline audit verify|list|head`` against a store given by its database URL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from loopline.audit import AuditEvent
from loopline.cli.main import app
from loopline.store import SqlTrackingStore

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(db_url: str) -> Invoke:
    def run(*args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--uri", db_url], catch_exceptions=False)

    return run


def test_verify_exits_0_on_an_intact_log(invoke: Invoke, seeded: list[AuditEvent]) -> None:
    result = invoke("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "Audit log intact: 5 entries verified." in result.stdout


def test_verify_exits_1_and_names_the_edited_entry(
    invoke: Invoke, seeded: list[AuditEvent], store: SqlTrackingStore
) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"))
    result = invoke("audit", "verify")
    assert result.exit_code == 1
    assert "error: audit log broken at entry 3: its content does not match" in result.stderr
    as_json = invoke("audit", "verify", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == {
        "ok": False,
        "checked": 3,
        "first_broken": 3,
        "reason": "its content does not match its stored hash (the entry was edited)",
    }


def test_verify_exits_1_and_names_the_entry_after_a_deletion(
    invoke: Invoke, seeded: list[AuditEvent], store: SqlTrackingStore
) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    result = invoke("audit", "verify")
    assert result.exit_code == 1
    assert "audit log broken at entry 3: entry 2 is missing (deleted)" in result.stderr


def test_head_and_verify_with_an_anchor(
    invoke: Invoke, seeded: list[AuditEvent], store: SqlTrackingStore
) -> None:
    head = invoke("audit", "head").stdout.strip()
    assert head == f"5:{seeded[-1].hash}"
    assert invoke("audit", "verify", "--anchor", head).exit_code == 0
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 5"))
    assert invoke("audit", "verify").exit_code == 0
    result = invoke("audit", "verify", "--anchor", head)
    assert result.exit_code == 1
    assert "entry 5: the anchored entry 5 is missing (the log was truncated)" in result.stderr
    assert invoke("audit", "verify", "--anchor", "five").exit_code == 2


def test_list_json_with_filters_and_pages(invoke: Invoke, seeded: list[AuditEvent]) -> None:
    result = invoke("audit", "list", "--object-type", "model", "--max-results", "2", "--json")
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    assert [e["seq"] for e in body["events"]] == [1, 2]
    assert body["events"][1] == {
        "seq": 2,
        "at": seeded[1].at,
        "actor": "bob",
        "action": "alias.set",
        "object_type": "model",
        "object_id": "churn",
        "details": {"alias": "champion", "version": 1},
        "prev_hash": seeded[0].hash,
        "hash": seeded[1].hash,
    }
    more = invoke("audit", "list", "--object-type", "model", "--page-token", body["next_token"],
                  "--json")  # fmt: skip
    assert [e["seq"] for e in json.loads(more.stdout)["events"]] == [5]
    by_actor = invoke("audit", "list", "--actor", "ana", "--object-id", "t-1", "--json")
    assert [e["seq"] for e in json.loads(by_actor.stdout)["events"]] == [3]
    timed = invoke("audit", "list", "--since", "1010", "--until", "1030", "--json")
    assert [e["seq"] for e in json.loads(timed.stdout)["events"]] == [2, 3]


def test_list_table_and_bad_time(invoke: Invoke, seeded: list[AuditEvent]) -> None:
    result = invoke("audit", "list", "--actor", "cy")
    assert result.exit_code == 0
    assert "approval.approve" in result.stdout
    assert "model_version/churn/1" in result.stdout
    iso = invoke("audit", "list", "--since", "2000-01-01T00:00:00+00:00", "--json")
    assert len(json.loads(iso.stdout)["events"]) == 0  # the test clock is near the epoch
    bad = invoke("audit", "list", "--since", "yesterday")
    assert bad.exit_code == 2
    assert "epoch milliseconds or an ISO 8601 time" in bad.output


def test_a_bad_page_token_is_one_error_line(invoke: Invoke, seeded: list[AuditEvent]) -> None:
    result = invoke("audit", "list", "--page-token", "bogus")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: The page_token 'bogus'")
