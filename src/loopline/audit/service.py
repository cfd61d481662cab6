"""The audit log service: record who changed what, list the record, and verify its hash chain.

Every event is hashed over a canonical JSON of its content and the previous event's hash (see
:mod:`loopline.entities.audit`). :meth:`AuditLog.verify` recomputes every hash and every link in
``seq`` order and reports the first entry where the chain breaks, and how: a gap in ``seq`` (an
entry deleted), a link to the wrong predecessor (an entry inserted, deleted, or rows reordered),
or content that no longer matches its hash (an entry edited). Someone who can write to the
database can still rewrite the whole tail consistently, or cut it off; only a head hash kept
elsewhere (:meth:`AuditLog.head`, passed back as ``verify(anchor=...)``) detects that.
"""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from loopline.entities import Page
from loopline.entities.audit import GENESIS_HASH, AuditEvent, VerificationResult
from loopline.errors import InvalidArgumentError
from loopline.store.audit import AuditTables
from loopline.tracking.paging import check_max_results, decode_token, encode_token

__all__ = ["DEFAULT_MAX_RESULTS", "AuditLog"]

DEFAULT_MAX_RESULTS = 100
_LIMITS = {"actor": 256, "action": 128, "object_type": 64, "object_id": 256}
_CHUNK = 1000


def _now_ms() -> int:
    return int(time.time() * 1000)


def _check_text(name: str, value: object, where: str) -> str:
    max_len = _LIMITS[name]
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise InvalidArgumentError(
            f"The {name!r} parameter of {where} must be a non-empty string of at most "
            f"{max_len} characters. Got {str(value)[:60]!r} instead.",
            field=name,
        )
    return value


def _check_time(name: str, value: object) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidArgumentError(
            f"The {name!r} parameter of AuditLog.list must be epoch milliseconds (an int). "
            f"Got {value!r} instead.",
            field=name,
        )
    return value


def _check_details(details: object) -> dict[str, Any]:
    if details is None:
        return {}
    problem = "it is not a mapping"
    if isinstance(details, Mapping):
        try:
            json.dumps(dict(details), allow_nan=False)
            return dict(details)
        except (TypeError, ValueError) as exc:
            problem = str(exc)
    raise InvalidArgumentError(
        "The 'details' parameter of AuditLog.record must be a JSON object (a mapping of JSON "
        f"values, no NaN or infinity). Got {str(details)[:60]!r} instead: {problem}.",
        field="details",
    )


class AuditLog:
    """The append-only, hash-chained record of every governed change.

    Examples:
        >>> import tempfile
        >>> from loopline.audit import AuditLog
        >>> from loopline.store.audit import AuditTables
        >>> log = AuditLog(AuditTables(f"sqlite:///{tempfile.mkdtemp()}/a.db"))
        >>> event = log.record("ana", "alias.set", "model", "churn", {"alias": "champion"})
        >>> event.seq, len(event.hash)
        (1, 64)
        >>> log.verify().ok
        True
    """

    def __init__(self, store: AuditTables, *, clock: Callable[[], int] = _now_ms) -> None:
        self.store = store
        self.clock = clock

    def record(
        self,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        """Append one event, chained to the last, and return it (with its ``seq`` and hash)."""
        where = "AuditLog.record"
        return self.store.append_audit_event(
            actor=_check_text("actor", actor, where),
            action=_check_text("action", action, where),
            object_type=_check_text("object_type", object_type, where),
            object_id=_check_text("object_id", object_id, where),
            details=_check_details(details),
            now=self.clock(),
        )

    def list(
        self,
        *,
        object_type: str | None = None,
        object_id: str | None = None,
        actor: str | None = None,
        since: int | None = None,
        until: int | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[AuditEvent]:
        """Events oldest first, filtered; ``since`` inclusive and ``until`` exclusive (epoch ms)."""
        limit = check_max_results(max_results, DEFAULT_MAX_RESULTS)
        offset = decode_token(page_token)
        events, more = self.store.list_audit_events(
            object_type=object_type,
            object_id=object_id,
            actor=actor,
            since=_check_time("since", since),
            until=_check_time("until", until),
            offset=offset,
            limit=limit,
        )
        return Page(events, encode_token(offset + limit) if more else None)

    def head(self) -> tuple[int, str] | None:
        """``(seq, hash)`` of the last event, to keep outside the database as an anchor."""
        return self.store.audit_head()

    def verify(self, *, anchor: tuple[int, str] | None = None) -> VerificationResult:
        """Recompute every hash and link; the first broken entry and why, or ``ok``.

        With ``anchor`` (a :meth:`head` kept elsewhere), the entry at that ``seq`` must also
        still exist with that hash, which detects a truncated or consistently rewritten log.
        """
        checked = 0
        prev: AuditEvent | None = None
        for chunk in self.store.iter_audit_events(chunk_size=_CHUNK):
            for event in chunk:
                checked += 1
                reason = self._break(prev, event)
                if reason is not None:
                    return VerificationResult(False, checked, event.seq, reason)
                prev = event
        if anchor is not None:
            reason = self._anchor_break(anchor)
            if reason is not None:
                return VerificationResult(False, checked, anchor[0], reason)
        return VerificationResult(True, checked)

    def _break(self, prev: AuditEvent | None, event: AuditEvent) -> str | None:
        expected_seq = 1 if prev is None else prev.seq + 1
        if event.seq > expected_seq:
            gap = builtins.list(range(expected_seq, event.seq))
            missing = f"entry {gap[0]} is" if len(gap) == 1 else f"entries {gap[0]}-{gap[-1]} are"
            return f"{missing} missing (deleted): the sequence jumps to {event.seq}"
        if event.seq < expected_seq:
            return f"its seq {event.seq} is below the first seq 1 (an entry was inserted)"
        expected_prev = GENESIS_HASH if prev is None else prev.hash
        if event.prev_hash != expected_prev:
            return self._link_break(prev, event)
        if event.expected_hash() != event.hash:
            return "its content does not match its stored hash (the entry was edited)"
        return None

    def _link_break(self, prev: AuditEvent | None, event: AuditEvent) -> str:
        before = "the start of the log" if prev is None else f"entry {prev.seq}"
        if event.prev_hash == GENESIS_HASH:
            return f"it is chained as the first entry, not after {before} (the entry was inserted)"
        owner = self.store.find_audit_seq(event.prev_hash)
        if owner is None:
            return (
                f"its prev_hash matches no entry, not {before} (the entry it followed was "
                "deleted, or edited with its hash recomputed)"
            )
        if owner > event.seq:
            return f"it is chained after entry {owner}, which comes later (entries were reordered)"
        return (
            f"it is chained after entry {owner}, not after {before} (entries were inserted "
            "before it)"
        )

    def _anchor_break(self, anchor: tuple[int, str]) -> str | None:
        seq, expected = anchor
        event = self.store.get_audit_event(seq)
        if event is None:
            return f"the anchored entry {seq} is missing (the log was truncated)"
        if event.hash != expected:
            return f"the anchored entry {seq} has another hash (the log was rewritten)"
        return None
