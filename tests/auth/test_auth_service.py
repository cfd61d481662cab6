"""AuthService on SQLite and PostgreSQL: users, roles, tokens, authentication and the audit log."""

from __future__ import annotations

import json
from typing import Any

import pytest

from loopline.audit import AuditLog
from loopline.auth import AuthService, Role, User, hash_token
from loopline.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from loopline.store import SqlTrackingStore

START_MS = 1_800_000_000_000  # where the ``clock`` fixture starts
DAY_MS = 86_400_000
Clock = Any  # the ``clock`` fixture: call it for the time; set ``.now`` to move it


def test_role_order_each_allows_what_those_below_may() -> None:
    order = [Role.VIEWER, Role.EDITOR, Role.APPROVER, Role.ADMIN]
    for i, have in enumerate(order):
        for j, need in enumerate(order):
            assert have.allows(need) is (i >= j), (have, need)


def test_create_user_and_read_it_back(auth: AuthService) -> None:
    created = auth.create_user("ana", "approver", actor="root")
    assert created == User("ana", Role.APPROVER, "root", START_MS, False)
    assert auth.get_user("ana") == created
    auth.create_user("bob", Role.EDITOR, actor="root")
    assert [u.name for u in auth.list_users()] == ["ana", "bob"]


def test_list_users_pages(auth: AuthService) -> None:
    for name in ("c", "a", "b"):
        auth.create_user(name, "viewer", actor="root")
    first = auth.list_users(max_results=2)
    assert [u.name for u in first] == ["a", "b"]
    rest = auth.list_users(max_results=2, page_token=first.next_token)
    assert [u.name for u in rest] == ["c"]
    assert rest.next_token is None


def test_duplicate_user_is_refused_and_changes_nothing(auth: AuthService, audit: AuditLog) -> None:
    auth.create_user("ana", "viewer", actor="root")
    with pytest.raises(AlreadyExistsError, match="'ana' already exists"):
        auth.create_user("ana", "admin", actor="mallory")
    assert auth.get_user("ana").role is Role.VIEWER
    assert len(audit.list()) == 1


@pytest.mark.parametrize(
    ("name", "role", "field"),
    [("ana", "root", "role"), ("ana", "", "role"), ("", "viewer", "name"),
     ("a b", "viewer", "name"), ("x" * 129, "viewer", "name"), ("-ana", "viewer", "name")],
)  # fmt: skip
def test_bad_user_arguments_are_refused(
    auth: AuthService, audit: AuditLog, name: str, role: str, field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        auth.create_user(name, role, actor="root")
    assert caught.value.details["field"] == field
    assert field in caught.value.message
    assert not list(auth.list_users())
    assert not list(audit.list())


def test_bad_role_names_the_choices(auth: AuthService) -> None:
    with pytest.raises(InvalidArgumentError, match="'viewer', 'editor', 'approver', 'admin'"):
        auth.create_user("ana", "superuser", actor="root")


def test_unknown_user_is_not_found(auth: AuthService) -> None:
    with pytest.raises(NotFoundError, match="No user named 'ghost'"):
        auth.get_user("ghost")
    with pytest.raises(NotFoundError):
        auth.set_role("ghost", "admin", actor="root")
    with pytest.raises(NotFoundError):
        auth.create_token("ghost", actor="root")


def test_token_round_trip(auth: AuthService, clock: Clock) -> None:
    auth.create_user("ana", "editor", actor="root")
    token, secret = auth.create_token("ana", description="ci", actor="root")
    assert secret.startswith(f"ll_{token.token_id}_")
    assert len(secret) == len("ll_") + 16 + 1 + 43
    assert (token.user, token.description, token.created_by) == ("ana", "ci", "root")
    assert token.expires_at is None
    assert token.revoked_at is None
    assert token.last_used_at is None
    assert auth.authenticate(secret).name == "ana"
    assert auth.get_token(token.token_id).last_used_at == START_MS


def test_only_the_hash_of_the_token_is_stored(auth: AuthService, store: SqlTrackingStore) -> None:
    from sqlalchemy import select

    from loopline.store.schema import ApiTokenRow

    auth.create_user("ana", "editor", actor="root")
    _token, secret = auth.create_token("ana", actor="root")
    with store.engine.connect() as conn:
        row = conn.execute(select(ApiTokenRow)).one()
    assert row.secret_hash == hash_token(secret)
    assert secret not in json.dumps([str(v) for v in row._mapping.values()])


def test_last_used_is_written_at_most_once_a_minute(auth: AuthService, clock: Clock) -> None:
    auth.create_user("ana", "editor", actor="root")
    token, secret = auth.create_token("ana", actor="root")
    auth.authenticate(secret)
    clock.now += 30_000
    auth.authenticate(secret)
    assert auth.get_token(token.token_id).last_used_at == START_MS
    clock.now += 30_000
    auth.authenticate(secret)
    assert auth.get_token(token.token_id).last_used_at == START_MS + 60_000


@pytest.mark.parametrize(
    ("sent", "reason"),
    [(None, "missing"), ("", "missing"), ("hello", "malformed"),
     ("ll_0123456789abcdef_short", "malformed"),
     ("ll_0123456789ABCDEF_" + "a" * 43, "malformed"),
     ("ll_0123456789abcdef_" + "a" * 43, "unknown")],
)  # fmt: skip
def test_bad_tokens_are_refused_naming_why(
    auth: AuthService, sent: str | None, reason: str
) -> None:
    with pytest.raises(UnauthenticatedError) as caught:
        auth.authenticate(sent)
    assert caught.value.details["reason"] == reason


def test_a_known_id_with_another_secret_is_unknown(auth: AuthService) -> None:
    auth.create_user("ana", "editor", actor="root")
    _token, secret = auth.create_token("ana", actor="root")
    forged = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    with pytest.raises(UnauthenticatedError, match="unknown"):
        auth.authenticate(forged)


def test_revoked_token_is_refused(auth: AuthService, audit: AuditLog) -> None:
    auth.create_user("ana", "editor", actor="root")
    token, secret = auth.create_token("ana", actor="root")
    revoked = auth.revoke_token(token.token_id, actor="root")
    assert revoked.revoked_at == START_MS
    with pytest.raises(UnauthenticatedError, match="revoked") as caught:
        auth.authenticate(secret)
    assert caught.value.details == {"reason": "revoked", "token_id": token.token_id}
    auth.revoke_token(token.token_id, actor="root")  # again: nothing changes, nothing recorded
    assert [e.action for e in audit.list()].count("token.revoke") == 1
    with pytest.raises(NotFoundError):
        auth.revoke_token("0123456789abcdef", actor="root")


def test_expired_token_is_refused(auth: AuthService, clock: Clock) -> None:
    auth.create_user("ana", "editor", actor="root")
    token, secret = auth.create_token("ana", expires_in_days=2, actor="root")
    assert token.expires_at == START_MS + 2 * DAY_MS
    clock.now = START_MS + 2 * DAY_MS - 1
    assert auth.authenticate(secret).name == "ana"
    clock.now += 1
    with pytest.raises(UnauthenticatedError, match="expired"):
        auth.authenticate(secret)


@pytest.mark.parametrize("days", [0, -1, 3651, 1.5, True, "7"])
def test_bad_expiry_is_refused(auth: AuthService, days: object) -> None:
    auth.create_user("ana", "editor", actor="root")
    with pytest.raises(InvalidArgumentError, match="expires_in_days"):
        auth.create_token("ana", expires_in_days=days, actor="root")  # type: ignore[arg-type]
    assert not list(auth.list_tokens())


def test_disabled_user_cannot_authenticate(auth: AuthService) -> None:
    auth.create_user("ana", "admin", actor="root")
    _, secret = auth.create_token("ana", actor="root")
    assert auth.disable_user("ana", actor="root").disabled
    with pytest.raises(UnauthenticatedError, match="'ana' is disabled"):
        auth.authenticate(secret)
    auth.enable_user("ana", actor="root")
    assert auth.authenticate(secret).name == "ana"


def test_set_role_changes_what_the_token_may_do(auth: AuthService) -> None:
    auth.create_user("bob", "editor", actor="root")
    _, secret = auth.create_token("bob", actor="root")
    with pytest.raises(PermissionDeniedError) as caught:
        auth.require(auth.authenticate(secret), Role.APPROVER)
    assert caught.value.message == "This action needs the 'approver' role; 'bob' has 'editor'."
    auth.set_role("bob", "approver", actor="root")
    auth.require(auth.authenticate(secret), Role.APPROVER)
    auth.require(auth.authenticate(secret), "viewer")


def test_list_tokens_of_one_user(auth: AuthService) -> None:
    for name in ("ana", "bob"):
        auth.create_user(name, "editor", actor="root")
    a1, _ = auth.create_token("ana", actor="root")
    b1, _ = auth.create_token("bob", actor="root")
    a2, _ = auth.create_token("ana", actor="root")
    assert {t.token_id for t in auth.list_tokens()} == {a1.token_id, b1.token_id, a2.token_id}
    assert {t.token_id for t in auth.list_tokens("ana")} == {a1.token_id, a2.token_id}
    assert not list(auth.list_tokens("nobody"))


def test_every_change_is_audited_without_secrets(auth: AuthService, audit: AuditLog) -> None:
    auth.create_user("ana", "editor", actor="root")
    token, secret = auth.create_token("ana", description="ci", expires_in_days=1, actor="root")
    auth.authenticate(secret)
    auth.set_role("ana", "approver", actor="root")
    auth.revoke_token(token.token_id, actor="ops")
    auth.disable_user("ana", actor="ops")
    events = list(audit.list())
    assert [(e.actor, e.action, e.object_type, e.object_id) for e in events] == [
        ("root", "user.create", "user", "ana"),
        ("root", "token.create", "token", token.token_id),
        ("root", "user.set_role", "user", "ana"),
        ("ops", "token.revoke", "token", token.token_id),
        ("ops", "user.disable", "user", "ana"),
    ]
    assert events[2].details == {"from": "editor", "to": "approver"}
    assert events[1].details == {
        "user": "ana",
        "description": "ci",
        "expires_at": START_MS + DAY_MS,
    }
    text = json.dumps([e.details for e in events])
    secret_part = secret.split("_", 2)[2]
    assert secret_part not in text
    assert hash_token(secret) not in text
    assert audit.verify().ok


def test_a_bad_actor_changes_nothing(auth: AuthService, audit: AuditLog) -> None:
    with pytest.raises(InvalidArgumentError, match="actor"):
        auth.create_user("ana", "editor", actor="")
    auth.create_user("ana", "editor", actor="root")
    with pytest.raises(InvalidArgumentError, match="actor"):
        auth.set_role("ana", "admin", actor="x" * 257)
    with pytest.raises(InvalidArgumentError, match="actor"):
        auth.create_token("ana", actor=" ")
    assert auth.get_user("ana").role is Role.EDITOR
    assert not list(auth.list_tokens())
    assert len(audit.list()) == 1


def test_no_default_user_exists(auth: AuthService, store: SqlTrackingStore) -> None:
    assert not list(auth.list_users())
    assert store.count_admins() == 0
