"""Search against a reference: random small datasets, random filters built from the filter AST.

The filter text is rendered from a random :mod:`loopline.filters` AST; the expected runs come from
a plain-Python evaluator of that AST, and the expected order from a plain-Python sort. Both
databases must agree with the reference on every example.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopline.artifacts import ArtifactStore
from loopline.filters import And, Comparison, Node, Or, OrderKey, parse_filter, parse_order_by
from loopline.store import SqlTrackingStore
from loopline.tracking.service import TrackingService

NUMBERS = [math.nan, math.inf, -math.inf, -1.5, 0.0, 1.0, 2.0]
STRINGS = ["a", "A", "ab", "aB", "b%", "a_c", "it's", "back\\slash", "é", "É", ""]
PATTERN_PARTS = ["a", "A", "b", "c", "%", "_", "\\%", "\\_", "'", "é", "s"]
STATUSES = ["running", "finished", "failed", "killed"]
METRIC_KEYS, PARAM_KEYS, TAG_KEYS = ["m", "n"], ["p", "q"], ["t"]
STRING_ATTRIBUTES = ["run_name", "status"]
TIME_ATTRIBUTES = ["start_time", "end_time"]
ORDERING = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass
class RunSpec:
    name: str
    status: str
    start_time: int
    end_time: int | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, list[float]] = field(default_factory=dict)  # the series, by step

    def value(self, entity: str, key: str) -> Any:
        if entity == "metric":
            series = self.metrics.get(key)
            return series[-1] if series else None
        if entity == "param":
            return self.params.get(key)
        if entity == "tag":
            return self.tags.get(key)
        return {"run_name": self.name, "status": self.status, "start_time": self.start_time,
                "end_time": self.end_time}[key]  # fmt: skip


@st.composite
def run_specs(draw: st.DrawFn) -> RunSpec:
    status = draw(st.sampled_from(STATUSES))
    start = draw(st.integers(0, 5))
    return RunSpec(
        name=draw(st.sampled_from(STRINGS[:-1])),
        status=status,
        start_time=start,
        end_time=None if status == "running" else start + draw(st.integers(0, 3)),
        params=draw(st.dictionaries(st.sampled_from(PARAM_KEYS), st.sampled_from(STRINGS))),
        tags=draw(st.dictionaries(st.sampled_from(TAG_KEYS), st.sampled_from(STRINGS))),
        metrics=draw(
            st.dictionaries(
                st.sampled_from(METRIC_KEYS),
                st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=3),
                min_size=1,
            )
        ),
    )


# -- random filters from the AST ------------------------------------------------------------------

patterns = st.lists(st.sampled_from(PATTERN_PARTS), min_size=1, max_size=4).map("".join)


def _comparisons(entity: str, key: str, kind: str) -> st.SearchStrategy[Comparison]:
    if kind == "number":
        scalar: st.SearchStrategy[Any] = st.sampled_from(NUMBERS)
        ops = ["=", "!=", "<", "<=", ">", ">="]
    elif kind == "time":
        scalar = st.integers(-1, 9).map(float)
        ops = ["=", "!=", "<", "<=", ">", ">="]
    else:
        scalar = st.sampled_from(STATUSES) if key == "status" else st.sampled_from(STRINGS)
        ops = ["=", "!="]
    single = st.builds(Comparison, st.just(entity), st.just(key), st.sampled_from(ops), scalar)
    listed = st.builds(
        Comparison,
        st.just(entity),
        st.just(key),
        st.sampled_from(["IN", "NOT IN"]),
        st.lists(scalar, min_size=1, max_size=3).map(tuple),
    )
    nulls = st.builds(
        Comparison,
        st.just(entity),
        st.just(key),
        st.sampled_from(["IS NULL", "IS NOT NULL"]),
        st.none(),
    )
    options = [single, listed, nulls]
    if kind == "string":
        like = st.sampled_from(["LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE"])
        options.append(st.builds(Comparison, st.just(entity), st.just(key), like, patterns))
    return st.one_of(options)


comparisons = st.one_of(  # one entity in four, then one of its keys
    st.one_of(*[_comparisons("metric", k, "number") for k in METRIC_KEYS]),
    st.one_of(*[_comparisons("param", k, "string") for k in PARAM_KEYS]),
    st.one_of(*[_comparisons("tag", k, "string") for k in TAG_KEYS]),
    st.one_of(
        *[_comparisons("attribute", k, "string") for k in STRING_ATTRIBUTES],
        *[_comparisons("attribute", k, "time") for k in TIME_ATTRIBUTES],
    ),
)
filters: st.SearchStrategy[Node] = st.recursive(
    comparisons,
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda items: And(tuple(items))),
        st.lists(children, min_size=2, max_size=3).map(lambda items: Or(tuple(items))),
    ),
    max_leaves=5,
)
order_keys = st.builds(
    OrderKey,
    st.sampled_from(["metric", "param", "tag", "attribute"]),
    st.just(""),
    st.booleans(),
).flatmap(
    lambda k: st.builds(
        OrderKey,
        st.just(k.entity),
        st.sampled_from(
            {"metric": METRIC_KEYS, "param": PARAM_KEYS, "tag": TAG_KEYS}.get(
                k.entity, STRING_ATTRIBUTES + TIME_ATTRIBUTES
            )
        ),
        st.just(k.descending),
    )
)

PREFIX = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": "attributes"}


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def render(node: Node) -> str:
    """Filter text for an AST; groups are parenthesised, so precedence never matters."""
    if isinstance(node, And | Or):
        word = " AND " if isinstance(node, And) else " OR "
        return word.join(f"({render(item)})" for item in node.items)
    left = f"{PREFIX[node.entity]}.{node.key}"
    if node.value is None:
        return f"{left} {node.op}"
    if isinstance(node.value, tuple):
        return f"{left} {node.op} ({', '.join(_literal(v) for v in node.value)})"
    return f"{left} {node.op} {_literal(node.value)}"


def normalise(node: Node) -> Node:
    """The AST the parser builds: nested groups of the same kind flattened."""
    if isinstance(node, Comparison):
        return node
    items: list[Node] = []
    for item in map(normalise, node.items):
        items.extend(item.items if type(item) is type(node) else (item,))  # type: ignore[union-attr]
    return type(node)(tuple(items))


# -- the reference evaluator ----------------------------------------------------------------------


def _like(value: str, pattern: str) -> bool:
    regex = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            regex.append(re.escape(next(chars)))
        elif char == "%":
            regex.append(".*")
        elif char == "_":
            regex.append(".")
        else:
            regex.append(re.escape(char))
    return re.fullmatch("".join(regex), value, re.DOTALL) is not None


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)  # loopline matches NaN with NaN: = nan finds NaN values
    return bool(a == b)


def matches(node: Node, run: RunSpec) -> bool:
    if isinstance(node, And):
        return all(matches(item, run) for item in node.items)
    if isinstance(node, Or):
        return any(matches(item, run) for item in node.items)
    value = run.value(node.entity, node.key)
    if node.op in ("IS NULL", "IS NOT NULL"):
        return (value is None) == (node.op == "IS NULL")
    if value is None:
        return False  # runs without the key match no comparison, not even !=
    if node.op in ("=", "!=", "IN", "NOT IN"):
        options = node.value if isinstance(node.value, tuple) else (node.value,)
        found = any(_equal(value, option) for option in options)
        return found if node.op in ("=", "IN") else not found
    if node.op in ORDERING:
        if math.isnan(value) or math.isnan(node.value):  # type: ignore[arg-type]
            return False
        return bool(ORDERING[node.op](value, node.value))
    pattern = str(node.value)
    if "ILIKE" in node.op:  # lower(value) LIKE lower(pattern)
        value, pattern = value.lower(), pattern.lower()
    found = _like(value, pattern)
    return found if not node.op.startswith("NOT") else not found


def expected_order(runs: list[tuple[str, RunSpec]], keys: tuple[OrderKey, ...]) -> list[str]:
    """Sort as documented: each key ascending or descending, numbers, then NaN, then missing;
    ties by newest start time, then run id."""
    ordered = sorted(runs, key=lambda item: item[0])
    ordered.sort(key=lambda item: item[1].start_time, reverse=True)
    for key in reversed(keys):

        def group(item: tuple[str, RunSpec], key: OrderKey = key) -> int:
            value = item[1].value(key.entity, key.key)
            if value is None:
                return 2
            return 1 if isinstance(value, float) and math.isnan(value) else 0

        def plain(item: tuple[str, RunSpec], key: OrderKey = key) -> Any:
            value = item[1].value(key.entity, key.key)
            return value if group(item) == 0 else type(_sample(key))()

        ordered.sort(key=plain, reverse=key.descending)
        ordered.sort(key=group)
    return [run_id for run_id, _ in ordered]


def _sample(key: OrderKey) -> Any:
    if key.entity == "metric" or key.key in TIME_ATTRIBUTES:
        return 0.0
    return ""


# -- the test -------------------------------------------------------------------------------------

_counter = itertools.count()


@pytest.fixture
def service(db_url: str, tmp_path: Path) -> TrackingService:
    return TrackingService(SqlTrackingStore(db_url), ArtifactStore(str(tmp_path / "a")))


def _load(service: TrackingService, specs: list[RunSpec]) -> tuple[str, dict[str, RunSpec]]:
    experiment_id = service.create_experiment(f"model-{next(_counter)}")
    runs = {}
    for spec in specs:
        run_id = service.create_run(
            experiment_id, run_name=spec.name, start_time=spec.start_time, tags=spec.tags
        ).info.run_id
        metrics = [
            (key, value, 0, step)
            for key, series in spec.metrics.items()
            for step, value in enumerate(series)
        ]
        service.log_batch(run_id, params=spec.params, metrics=metrics)
        if spec.status != "running":
            service.update_run(run_id, status=spec.status, end_time=spec.end_time)
        runs[run_id] = spec
    return experiment_id, runs


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(run_specs(), min_size=1, max_size=6),
    queries=st.lists(
        st.tuples(filters, st.lists(order_keys, max_size=2).map(tuple)), min_size=4, max_size=10
    ),
    page_size=st.integers(1, 4),
)
def test_search_matches_the_reference(
    service: TrackingService,
    specs: list[RunSpec],
    queries: list[tuple[Node, tuple[OrderKey, ...]]],
    page_size: int,
) -> None:
    experiment_id, runs = _load(service, specs)
    for index, (node, keys) in enumerate(queries):
        text = render(node)
        assert parse_filter(text) == normalise(node), text
        order_by = [f"{PREFIX[k.entity]}.{k.key} {'DESC' if k.descending else 'ASC'}" for k in keys]
        assert parse_order_by(order_by) == keys
        wanted = [(run_id, spec) for run_id, spec in runs.items() if matches(node, spec)]
        expected = expected_order(wanted, keys)

        found = service.search_runs([experiment_id], filter=text, order_by=order_by)
        assert [r.info.run_id for r in found] == expected, (text, order_by)
        if index:
            continue  # page through the first query only: paging does not depend on the filter
        paged: list[str] = []
        token = None
        while True:
            page = service.search_runs(
                [experiment_id],
                filter=text,
                order_by=order_by,
                max_results=page_size,
                page_token=token,
            )
            paged += [r.info.run_id for r in page]
            token = page.next_token
            if token is None:
                break
        assert paged == expected


# -- every single comparison against one dataset that holds every value ---------------------------

LIKE_PATTERNS = ["a", "A", "%", "_", "a%", "%a", "%b%", "a_", "_B", "b\\%", "b%%", "a\\_c",
                 "a_c", "it%", "%'%", "é", "É", "back\\\\slash", "%\\\\%", "", "__"]  # fmt: skip


def _all_comparisons() -> list[Comparison]:
    found: list[Comparison] = []

    def add(entity: str, key: str, values: list[Any], ops: list[str]) -> None:
        found.extend(Comparison(entity, key, op, v) for op in ops for v in values)  # type: ignore[arg-type]
        pairs = [tuple(p) for p in itertools.combinations(values, 2)]
        found.extend(Comparison(entity, key, op, p) for op in ("IN", "NOT IN") for p in pairs)  # type: ignore[arg-type]
        found.extend(Comparison(entity, key, op, None) for op in ("IS NULL", "IS NOT NULL"))  # type: ignore[arg-type]

    numeric = ["=", "!=", "<", "<=", ">", ">="]
    add("metric", "m", NUMBERS, numeric)
    add("attribute", "end_time", [-1.0, 2.0, 4.5, 9.0], numeric)
    add("attribute", "status", STATUSES, ["=", "!="])
    for entity, key in (("param", "p"), ("tag", "t"), ("attribute", "run_name")):
        add(entity, key, STRINGS, ["=", "!="])
        like = ["LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE"]
        found.extend(Comparison(entity, key, op, p) for op in like for p in LIKE_PATTERNS)  # type: ignore[arg-type]
    return found


def _every_value_specs() -> list[RunSpec]:
    specs = []
    for i in range(len(STRINGS) + 1):
        status = STATUSES[i % len(STATUSES)]
        last = i == len(STRINGS)
        specs.append(
            RunSpec(
                name=STRINGS[(i + 1) % len(STRINGS)] or "unnamed",
                status=status,
                start_time=i,
                end_time=None if status == "running" else i % 6,
                params={} if last else {"p": STRINGS[i]},
                tags={} if last else {"t": STRINGS[(i + 5) % len(STRINGS)]},
                metrics={} if last else {"m": [NUMBERS[i % len(NUMBERS)]]},
            )
        )
    return specs


def test_every_comparison_matches_the_reference(module_db_url: str, tmp_path: Path) -> None:
    service = TrackingService(SqlTrackingStore(module_db_url), ArtifactStore(str(tmp_path)))
    experiment_id, runs = _load(service, _every_value_specs())
    wrong = []
    comparisons = _all_comparisons()
    for node in comparisons:
        text = render(node)
        assert parse_filter(text) == node, text
        expected = sorted(run_id for run_id, spec in runs.items() if matches(node, spec))
        found = sorted(r.info.run_id for r in service.search_runs([experiment_id], filter=text))
        if found != expected:
            wrong.append(text)
    assert wrong == [], f"{len(wrong)} of {len(comparisons)} filters disagree with the reference"
