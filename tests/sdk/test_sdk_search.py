"""``search_runs``: the filter language, order-by, paging and their errors, locally and remotely.

Expected results are computed in Python from the logged data, never written out by hand.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

import loopline
from loopline.errors import InvalidArgumentError, InvalidFilterError, NotFoundError


@dataclass
class Spec:
    name: str
    status: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    start_time: int = 0


SPECS = [
    Spec(
        "rf-1", "finished", {"model": "rf", "depth": "3"}, {"auc": 0.91, "loss": 0.2}, {"team": "a"}
    ),
    Spec("rf-2", "failed", {"model": "rf", "depth": "5"}, {"auc": 0.85}, {"team": "b"}),
    Spec("lr-1", "finished", {"model": "lr"}, {"auc": 0.75, "loss": 0.4}, {"team": "x"}),
    Spec("xgb-1", "finished", {"model": "xgb", "depth": "7"}, {"auc": math.nan}),
    Spec("base", "killed", {"model": "majority"}, {}, {"team": "a", "note": "50% off"}),
    Spec(
        "lr-2", "running", {"model": "lr", "depth": "3"}, {"auc": 0.95, "loss": 0.1}, {"team": "b"}
    ),
    Spec(
        "xgb-2", "finished", {"model": "XGB"}, {"auc": -math.inf, "loss": math.inf}, {"team": "x"}
    ),
]


@dataclass
class Populated:
    target: Any
    experiment_id: str
    specs: list[Spec]


@pytest.fixture(scope="module", params=["local", "remote"])
def populated(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    new_target: Callable[[str, Path], Any],
) -> Iterator[Populated]:
    """One store per mode for the whole module, holding the runs of SPECS (read-only tests)."""
    target = new_target(request.param, tmp_path_factory.mktemp("search"))
    target.use()
    client = loopline.Client(target.uri)
    experiment_id = client.create_experiment("sdk-tests")
    specs = [replace(s) for s in SPECS]
    for index, spec in enumerate(specs):
        spec.start_time = 1_000_000 + 10 * index
        run = client.create_run(experiment_id, run_name=spec.name, start_time=spec.start_time)
        spec.run_id = run.id
        client.log_batch(
            run.id,
            metrics=[(k, v, 5, 1) for k, v in spec.metrics.items()],
            params=spec.params,
            tags=spec.tags,
        )
        if spec.status != "running":
            client.set_terminated(run.id, spec.status)
    target.release()
    yield Populated(target, experiment_id, specs)
    target.close()


@pytest.fixture
def runs(populated: Populated, clean_env: None) -> Iterator[list[Spec]]:
    """The SDK pointed at the populated store, its experiment current; the runs of SPECS."""
    populated.target.use()
    loopline.set_experiment("sdk-tests")
    yield populated.specs
    populated.target.release()


def _has(values: dict[str, Any], key: str) -> bool:
    return key in values


def _num(spec: Spec, key: str, test: Callable[[float], bool]) -> bool:
    """Whether the run has the metric and ``test`` holds for it, with IEEE 754 semantics for NaN
    (every ordering comparison false, ``!=`` true), as Python compares floats."""
    return key in spec.metrics and test(spec.metrics[key])


FILTERS: list[tuple[str, Callable[[Spec], bool]]] = [
    ("metrics.auc > 0.8", lambda s: _num(s, "auc", lambda v: v > 0.8)),
    ("metrics.auc <= 0.85", lambda s: _num(s, "auc", lambda v: v <= 0.85)),
    ("metric.loss >= inf", lambda s: _num(s, "loss", lambda v: v == math.inf)),
    ("metrics.auc > -inf", lambda s: _num(s, "auc", lambda v: v > -math.inf)),
    ("metrics.auc = nan", lambda s: math.isnan(s.metrics.get("auc", 0.0))),
    ("metrics.auc != 0.91", lambda s: _num(s, "auc", lambda v: v != 0.91)),
    (
        "metrics.auc > 0.8 and params.model = 'rf'",
        lambda s: _num(s, "auc", lambda v: v > 0.8) and s.params.get("model") == "rf",
    ),
    ("params.model = 'rf' OR params.model = 'lr'", lambda s: s.params["model"] in ("rf", "lr")),
    (
        "params.model = 'rf' or params.model = 'lr' and metrics.loss < 0.3",
        lambda s: (
            s.params["model"] == "rf"
            or (s.params["model"] == "lr" and _num(s, "loss", lambda v: v < 0.3))
        ),
    ),
    (
        "(params.model = 'rf' or params.model = 'lr') and metrics.loss < 0.3",
        lambda s: s.params["model"] in ("rf", "lr") and _num(s, "loss", lambda v: v < 0.3),
    ),
    ("tags.team != 'x'", lambda s: _has(s.tags, "team") and s.tags["team"] != "x"),
    ("tags.team = 'a'", lambda s: s.tags.get("team") == "a"),
    ("attributes.status = 'finished'", lambda s: s.status == "finished"),
    ("status != 'FINISHED'", lambda s: s.status != "finished"),
    ("attributes.status IN ('failed', 'killed')", lambda s: s.status in ("failed", "killed")),
    ("params.model LIKE 'r%'", lambda s: s.params["model"].startswith("r")),
    ("params.model LIKE 'x%'", lambda s: s.params["model"].startswith("x")),
    ("params.model ILIKE 'x%'", lambda s: s.params["model"].lower().startswith("x")),
    ("params.model NOT LIKE '%r%'", lambda s: "r" not in s.params["model"]),
    ("run_name LIKE '%-1'", lambda s: s.name.endswith("-1")),
    ("attributes.run_name = 'base'", lambda s: s.name == "base"),
    ("tags.note LIKE '50\\%%'", lambda s: s.tags.get("note", "").startswith("50%")),
    ("params.model IN ('rf', 'xgb')", lambda s: s.params["model"] in ("rf", "xgb")),
    ("params.model NOT IN ('rf', 'xgb')", lambda s: s.params["model"] not in ("rf", "xgb")),
    ("metrics.auc IN (0.91, 0.75)", lambda s: s.metrics.get("auc") in (0.91, 0.75)),
    ("metrics.loss IS NULL", lambda s: "loss" not in s.metrics),
    ("metrics.loss IS NOT NULL", lambda s: "loss" in s.metrics),
    ("params.depth IS NULL", lambda s: "depth" not in s.params),
    (
        "tags.team IS NOT NULL and params.depth IS NULL",
        lambda s: "team" in s.tags and "depth" not in s.params,
    ),
    ("attributes.end_time IS NULL", lambda s: s.status == "running"),
    ("attributes.parent_run_id IS NULL", lambda s: True),
    ("attributes.start_time >= 1000030", lambda s: s.start_time >= 1_000_030),
    (
        "params.`depth` = '3' AND tags.\"team\" = 'b'",
        lambda s: s.params.get("depth") == "3" and s.tags.get("team") == "b",
    ),
    ("  ", lambda s: True),
]


@pytest.mark.parametrize(("text", "predicate"), FILTERS, ids=[f[0] for f in FILTERS])
def test_filter_language(runs: list[Spec], text: str, predicate: Callable[[Spec], bool]) -> None:
    found = loopline.search_runs(filter=text)

    assert sorted(r.id for r in found) == sorted(s.run_id for s in runs if predicate(s))
    assert found.next_token is None


def test_filter_on_run_id_and_experiment_id(runs: list[Spec], populated: Populated) -> None:
    target = runs[2].run_id

    assert [r.id for r in loopline.search_runs(filter=f"attributes.run_id = '{target}'")] == [
        target
    ]
    same = loopline.search_runs(filter=f"attributes.experiment_id = '{populated.experiment_id}'")
    assert len(same) == len(runs)


def test_search_returns_whole_runs(runs: list[Spec]) -> None:
    by_id = {r.id: r for r in loopline.search_runs()}

    for spec in runs:
        run = by_id[spec.run_id]
        assert run.info.run_name == spec.name
        assert run.info.status.value == spec.status
        assert run.data.params == spec.params
        assert {k: v for k, v in run.data.tags.items() if not k.startswith("loopline.")} == (
            spec.tags
        )
        assert set(run.data.metrics) == set(spec.metrics)


def test_default_order_is_newest_first(runs: list[Spec]) -> None:
    found = loopline.search_runs()

    assert [r.id for r in found] == [s.run_id for s in sorted(runs, key=lambda s: -s.start_time)]


def _metric_sort_key(spec: Spec, key: str, descending: bool) -> tuple[int, float]:
    value = spec.metrics[key]
    if math.isnan(value):
        return (1, 0.0)
    return (0, -value if descending else value)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("key", ["auc", "loss"])
def test_order_by_metric_missing_last(runs: list[Spec], key: str, descending: bool) -> None:
    clause = f"metrics.{key} {'DESC' if descending else 'ASC'}"

    found = [r.id for r in loopline.search_runs(order_by=[clause])]

    having = sorted(
        (s for s in runs if key in s.metrics),
        key=lambda s: _metric_sort_key(s, key, descending),
    )
    missing = {s.run_id for s in runs if key not in s.metrics}
    assert found[: len(having)] == [s.run_id for s in having]
    assert set(found[len(having) :]) == missing


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_order_by_param_missing_last(runs: list[Spec], descending: bool) -> None:
    found = [
        r.id
        for r in loopline.search_runs(
            order_by=[f"params.depth {'DESC' if descending else 'ASC'}", "attributes.run_name"]
        )
    ]

    having = sorted(
        (s for s in runs if "depth" in s.params),
        key=lambda s: s.name,
    )
    having.sort(key=lambda s: s.params["depth"], reverse=descending)
    missing = {s.run_id for s in runs if "depth" not in s.params}
    assert found[: len(having)] == [s.run_id for s in having]
    assert set(found[len(having) :]) == missing


@pytest.mark.parametrize(
    ("clause", "sort_key", "reverse"),
    [
        ("start_time", lambda s: s.start_time, False),
        ("attributes.start_time DESC", lambda s: s.start_time, True),
        ("run_name", lambda s: s.name, False),
        ("attributes.run_name desc", lambda s: s.name, True),
    ],
)
def test_order_by_attribute(
    runs: list[Spec], clause: str, sort_key: Callable[[Spec], Any], reverse: bool
) -> None:
    found = [r.id for r in loopline.search_runs(order_by=clause)]

    assert found == [s.run_id for s in sorted(runs, key=sort_key, reverse=reverse)]


def test_order_by_several_keys(runs: list[Spec]) -> None:
    found = [r.id for r in loopline.search_runs(order_by=["params.model", "start_time DESC"])]

    expected = sorted(runs, key=lambda s: -s.start_time)
    expected.sort(key=lambda s: s.params["model"])
    assert found == [s.run_id for s in expected]


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 50])
@pytest.mark.parametrize(
    ("text", "order_by"),
    [("", []), ("metrics.auc > 0", ["metrics.auc DESC"]), ("", ["params.depth"])],
    ids=["all", "filtered", "ordered"],
)
def test_paging_covers_every_run_once(
    runs: list[Spec], page_size: int, text: str, order_by: list[str]
) -> None:
    whole = [r.id for r in loopline.search_runs(filter=text, order_by=order_by)]
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = loopline.search_runs(
            filter=text, order_by=order_by, max_results=page_size, page_token=token
        )
        pages += 1
        assert len(page) <= page_size
        seen.extend(r.id for r in page)
        token = page.next_token
        if token is None:
            break
        assert len(page) == page_size
        assert pages <= len(runs) + 1

    assert seen == whole
    assert len(set(seen)) == len(seen)


def test_search_several_experiments_by_name_and_id(
    experiment: Any, client: loopline.Client
) -> None:
    mine = client.create_run(experiment.experiment_id)
    other_id = client.create_experiment("other")
    other = client.create_run(other_id)

    both = loopline.search_runs(["sdk-tests", other_id])
    assert {r.id for r in both} == {mine.id, other.id}
    assert [r.id for r in loopline.search_runs("other")] == [other.id]
    assert {r.id for r in client.search_runs(["other", "sdk-tests"])} == {r.id for r in both}


def test_search_unknown_experiment_is_not_found(mode: str) -> None:
    with pytest.raises(NotFoundError):
        loopline.search_runs("no such experiment")


def test_search_no_experiments_is_empty(mode: str, client: loopline.Client) -> None:
    assert list(client.search_runs([])) == []


BAD_FILTERS = [
    ("metrics.auc > 0.8 and params.model = rf", "rf"),
    ("metrics.auc >> 0.8", ">"),
    ("metrics.auc > 0.8 and", None),
    ("(metrics.auc > 0.8", None),
    ("metrics.auc > 0.8)", ")"),
    ("metrix.auc > 1", "metrix.auc"),
    ("params.model = 'rf", "'"),
    ("metrics.auc ~ 1", "~"),
    ("params.model > 'a'", ">"),
    ("status = 'done'", "'done'"),
    ("metrics.auc > 1.2.3", "1.2.3"),
    ("params.model IN ()", ")"),
    ("metrics.auc LIKE '1%'", "LIKE"),
    ("params.model = 'a' and not params.x = 'b'", "not"),
    ("metrics.auc = 'high'", "'high'"),
    ("colour = 'red'", "colour"),
]


def _expected_position(text: str, token: str | None) -> int:
    if token is None:
        return len(text)
    return text.rindex(token) if token in (">", ")") else text.index(token)


@pytest.mark.parametrize(("text", "token"), BAD_FILTERS, ids=[f[0] for f in BAD_FILTERS])
def test_malformed_filter_points_at_the_bad_token(
    runs: list[Spec], text: str, token: str | None
) -> None:
    with pytest.raises(InvalidFilterError) as caught:
        loopline.search_runs(filter=text)

    error = caught.value
    assert error.position == _expected_position(text, token)
    assert error.token == token
    assert error.details["position"] == error.position
    assert f"position {error.position}" in str(error)
    assert isinstance(error, InvalidArgumentError)


@pytest.mark.parametrize(
    ("clause", "token"),
    [("metrics.auc SIDEWAYS", "SIDEWAYS"), ("metrics.", "metrics."), ("auc DESC", "auc")],
)
def test_malformed_order_by_points_at_the_bad_token(mode: str, clause: str, token: str) -> None:
    with pytest.raises(InvalidFilterError) as caught:
        loopline.search_runs(order_by=[clause])

    assert caught.value.position == clause.index(token)
    assert caught.value.token == token


@pytest.mark.parametrize("max_results", [0, -1, 50_001, "10", True, 1.5])
def test_bad_max_results_is_invalid_argument(client: loopline.Client, max_results: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="max_results"):
        loopline.search_runs(max_results=max_results)
    with pytest.raises(InvalidArgumentError, match="max_results"):
        client.list_experiments(max_results=max_results)


@pytest.mark.parametrize("token", ["garbage", "eyJvZmZzZXQiOiAtMX0=", "é"])
def test_bad_page_token_is_invalid_argument(mode: str, token: str) -> None:
    with pytest.raises(InvalidArgumentError, match="page_token"):
        loopline.search_runs(page_token=token)


def test_bad_view_is_invalid_argument(mode: str, client: loopline.Client) -> None:
    with pytest.raises(InvalidArgumentError, match="view"):
        loopline.search_runs(view="everything")
    with pytest.raises(InvalidArgumentError, match="view"):
        client.list_experiments(view="everything")


def test_forged_page_token_with_huge_offset_is_invalid_argument(mode: str) -> None:
    forged = base64.urlsafe_b64encode(json.dumps({"offset": 10**21}).encode()).decode()

    with pytest.raises(InvalidArgumentError, match="page_token"):
        loopline.search_runs(page_token=forged)


def test_filter_on_experiment_id_past_64_bits_is_invalid(runs: list[Spec]) -> None:
    with pytest.raises(InvalidFilterError, match="experiment_id"):
        loopline.search_runs(filter="experiment_id = '99999999999999999999999'")


def test_deeply_nested_filter_is_invalid_filter(mode: str) -> None:
    with pytest.raises(InvalidFilterError):
        loopline.search_runs(filter="(" * 2000 + "metrics.a > 1" + ")" * 2000)


def test_order_by_takes_a_bounded_number_of_keys(runs: list[Spec]) -> None:
    with pytest.raises(InvalidArgumentError, match="order_by"):
        loopline.search_runs(order_by=["metrics.auc"] * 100)


def test_too_large_filter_is_invalid_filter(mode: str) -> None:
    with pytest.raises(InvalidFilterError):
        loopline.search_runs(filter=" or ".join(["metrics.a > 1"] * 1001))
