"""Run search: every comparator on every entity, boolean logic, order-by and paging.

One small fixed dataset; expectations are written out by hand. ``test_store_search_model.py`` checks
random datasets and filters against a reference evaluator.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import insert

from loopline.artifacts import ArtifactStore
from loopline.errors import InvalidArgumentError, InvalidFilterError, NotFoundError
from loopline.store import SqlTrackingStore
from loopline.store.schema import ParamRow, RunRow
from loopline.tracking.service import TrackingService

NAN, INF = math.nan, math.inf

# name: (status, params, metrics, tags)
RUNS: dict[str, tuple[str, dict[str, str], dict[str, float], dict[str, str]]] = {
    "r1": ("finished", {"model": "rf", "depth": "3"}, {"auc": 0.9, "loss": 0.5},
           {"team": "Risk", "note": "50%"}),
    "r2": ("finished", {"model": "RF", "depth": "10"}, {"auc": 0.7, "loss": NAN},
           {"team": "risk"}),
    "r3": ("failed", {"model": "xgb"}, {"auc": INF, "loss": 0.1}, {"team": "ops", "note": "50x"}),
    "r4": ("running", {}, {"auc": -INF}, {}),
    "r5": ("killed", {"model": "lin_reg"}, {"loss": 0.3}, {"note": "5_0"}),
}  # fmt: skip
RUN_NAMES = {"r1": "alpha", "r2": "beta", "r3": "gamma", "r4": "delta", "r5": "Alphabet"}


@dataclass
class Dataset:
    service: TrackingService
    experiment_id: str
    ids: dict[str, str]  # r1 -> run id
    names: dict[str, str]  # run id -> r1

    def search(self, filter: str | None = None, order_by: tuple[str, ...] = ()) -> list[str]:
        runs = self.service.search_runs([self.experiment_id], filter=filter, order_by=order_by)
        return [self.names[r.info.run_id] for r in runs]


def _load(service: TrackingService) -> Dataset:
    experiment_id = service.create_experiment("search")
    ids = {}
    for index, (label, (status, params, metrics, tags)) in enumerate(RUNS.items(), start=1):
        run_id = service.create_run(
            experiment_id, run_name=RUN_NAMES[label], start_time=index, tags=tags
        ).info.run_id
        service.log_batch(run_id, params=params, metrics=[(k, v, 0, 0) for k, v in metrics.items()])
        if status != "running":
            service.update_run(run_id, status=status, end_time=index * 10)
        ids[label] = run_id
    return Dataset(service, experiment_id, ids, {v: k for k, v in ids.items()})


@pytest.fixture(scope="module")
def data(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """The dataset, loaded once per database; tests that read it must not change it."""
    artifacts = ArtifactStore(str(tmp_path_factory.mktemp("artifacts")))
    return _load(TrackingService(SqlTrackingStore(module_db_url), artifacts))


@pytest.fixture
def own_data(service: TrackingService) -> Dataset:
    """The dataset in this test's own store, for tests that add to it."""
    return _load(service)


CASES = [
    # metrics: latest values, NaN and infinities
    ("metrics.auc = 0.9", "r1"),
    ("metrics.auc == 0.9", "r1"),
    ("metrics.auc != 0.9", "r2 r3 r4"),
    ("metrics.auc <> 0.9", "r2 r3 r4"),
    ("metrics.auc < 0.9", "r2 r4"),
    ("metrics.auc <= 0.9", "r1 r2 r4"),
    ("metrics.auc > 0.7", "r1 r3"),
    ("metrics.auc >= 0.7", "r1 r2 r3"),
    ("metrics.auc IN (0.7, 0.9)", "r1 r2"),
    ("metrics.auc NOT IN (0.7, 0.9)", "r3 r4"),
    ("metrics.auc IS NULL", "r5"),
    ("metrics.auc IS NOT NULL", "r1 r2 r3 r4"),
    ("metrics.auc = inf", "r3"),
    ("metrics.auc = -inf", "r4"),
    ("metrics.auc > -inf", "r1 r2 r3"),
    ("metrics.auc < inf", "r1 r2 r4"),
    ("metrics.auc >= -1e308", "r1 r2 r3"),
    ("metrics.loss = nan", "r2"),
    ("metrics.loss != nan", "r1 r3 r5"),
    ("metrics.loss != 0.5", "r2 r3 r5"),  # NaN differs from 0.5
    ("metrics.loss NOT IN (0.5, 0.3)", "r2 r3"),
    ("metrics.loss = 0.5", "r1"),
    ("metrics.loss > 0", "r1 r3 r5"),
    ("metrics.loss < 1", "r1 r3 r5"),
    ("metrics.loss > nan", ""),
    ("metrics.loss <= nan", ""),
    ("metrics.loss IN (nan, 0.1)", "r2 r3"),
    ("metrics.loss NOT IN (nan, 0.1)", "r1 r5"),
    ("metrics.absent IS NULL", "r1 r2 r3 r4 r5"),
    ("metrics.absent != 1", ""),
    # params: strings, LIKE is case-sensitive, ILIKE is not, backslash escapes a wildcard
    ("params.model = 'rf'", "r1"),
    ("params.model != 'rf'", "r2 r3 r5"),
    ("params.model LIKE 'r%'", "r1"),
    ("params.model LIKE '%F'", "r2"),
    ("params.model LIKE '___'", "r3"),
    ("params.model ILIKE 'r%'", "r1 r2"),
    ("params.model NOT LIKE 'r%'", "r2 r3 r5"),
    ("params.model NOT ILIKE 'r%'", "r3 r5"),
    ("params.model LIKE 'lin\\_reg'", "r5"),
    ("params.model IN ('rf', 'xgb')", "r1 r3"),
    ("params.model NOT IN ('rf', 'xgb')", "r2 r5"),
    ("params.model IS NULL", "r4"),
    ("params.model IS NOT NULL", "r1 r2 r3 r5"),
    ("params.depth = '3'", "r1"),
    ("params.depth = '03'", ""),
    ("param.depth IN ('3', '10')", "r1 r2"),
    # tags
    ("tags.team = 'risk'", "r2"),
    ("tags.team != 'risk'", "r1 r3"),
    ("tags.team ILIKE 'RISK'", "r1 r2"),
    ("tags.team NOT ILIKE 'RISK'", "r3"),
    ("tags.team LIKE 'R%'", "r1"),
    ("tags.team NOT LIKE 'R%'", "r2 r3"),
    ("tags.team IN ('ops')", "r3"),
    ("tags.team NOT IN ('ops')", "r1 r2"),
    ("tags.team IS NULL", "r4 r5"),
    ("tags.team IS NOT NULL", "r1 r2 r3"),
    ("tags.note LIKE '50%'", "r1 r3"),
    ("tags.note LIKE '50\\%'", "r1"),
    ("tags.note LIKE '5\\_0'", "r5"),
    ("tags.note LIKE '5_0'", "r5"),
    ("tag.`note` = '50x'", "r3"),
    ("tags.\"note\" = '50x'", "r3"),
    # attributes
    ("attributes.run_name = 'alpha'", "r1"),
    ("run_name != 'alpha'", "r2 r3 r4 r5"),
    ("name LIKE 'alpha%'", "r1"),
    ("attr.name ILIKE 'alpha%'", "r1 r5"),
    ("attributes.run_name NOT LIKE '%a'", "r5"),
    ("run_name IN ('beta', 'gamma')", "r2 r3"),
    ("run_name NOT IN ('beta', 'gamma')", "r1 r4 r5"),
    ("status = 'finished'", "r1 r2"),
    ("attributes.status = 'FINISHED'", "r1 r2"),
    ("status != 'finished'", "r3 r4 r5"),
    ("status IN ('failed', 'killed')", "r3 r5"),
    ("status NOT IN ('failed', 'killed')", "r1 r2 r4"),
    ("status LIKE 'fin%'", "r1 r2"),
    ("start_time >= 3", "r3 r4 r5"),
    ("start_time < 2", "r1"),
    ("start_time = 2", "r2"),
    ("start_time != 2", "r1 r3 r4 r5"),
    ("start_time <= 2.5", "r1 r2"),
    ("start_time IN (1, 5)", "r1 r5"),
    ("end_time IS NULL", "r4"),
    ("end_time IS NOT NULL", "r1 r2 r3 r5"),
    ("end_time > 25", "r3 r5"),
    ("end_time != 10", "r2 r3 r5"),
    ("attributes.parent_run_id IS NULL", "r1 r2 r3 r4 r5"),
    ("attributes.parent_run_id IS NOT NULL", ""),
    ("attributes.lifecycle_stage = 'active'", "r1 r2 r3 r4 r5"),
    # boolean logic: AND binds tighter than OR; keywords are case-insensitive
    ("metrics.auc > 0.8 and params.model = 'rf'", "r1"),
    (
        "metrics.auc > 0.8 and params.model = 'rf' and tags.team != 'x' "
        "and attributes.status = 'finished'",
        "r1",
    ),
    ("params.model = 'rf' or params.model = 'xgb'", "r1 r3"),
    ("(params.model = 'rf' or tags.team = 'ops') and metrics.auc > 1", "r3"),
    ("params.model = 'rf' or tags.team = 'ops' and metrics.auc > 1", "r1 r3"),
    ("params.model = 'rf' OR (tags.team = 'ops' AND metrics.auc < 1)", "r1"),
    ("((metrics.loss IS NULL)) Or (status = 'killed' aNd params.model LIKE 'lin%')", "r4 r5"),
    ("METRICS.auc > 0.8 AND Params.model IN ('rf')", "r1"),
    ("metrics.auc IS NULL or metrics.loss IS NULL", "r4 r5"),
    ("metrics.auc IS NOT NULL and metrics.loss IS NOT NULL and tags.note IS NULL", "r2"),
]


@pytest.mark.parametrize(("filter", "expected"), CASES, ids=[c[0] for c in CASES])
def test_filter(data: Dataset, filter: str, expected: str) -> None:
    assert sorted(data.search(filter)) == expected.split()


def test_filter_on_run_and_experiment_ids(data: Dataset) -> None:
    r1, r2 = data.ids["r1"], data.ids["r2"]
    assert data.search(f"attributes.run_id = '{r1}'") == ["r1"]
    assert sorted(data.search(f"run_id IN ('{r1}', '{r2}')")) == ["r1", "r2"]
    assert sorted(data.search(f"id != '{r1}'")) == ["r2", "r3", "r4", "r5"]
    assert len(data.search(f"attributes.experiment_id = '{data.experiment_id}'")) == 5
    assert data.search(f"attributes.experiment_id != '{data.experiment_id}'") == []
    assert len(data.search(f"attributes.experiment_id IN ('{data.experiment_id}', '0')")) == 5
    with pytest.raises(InvalidFilterError):
        data.search("attributes.experiment_id = 'abc'")
    with pytest.raises(InvalidFilterError):
        data.search("attributes.experiment_id LIKE '1%'")


def test_filter_on_parent_run(own_data: Dataset) -> None:
    data = own_data
    parent = data.ids["r1"]
    child = data.service.create_run(data.experiment_id, parent_run_id=parent, start_time=9)
    data.names[child.info.run_id] = "child"
    assert data.search(f"attributes.parent_run_id = '{parent}'") == ["child"]
    assert data.search("attributes.parent_run_id IS NOT NULL") == ["child"]
    assert data.search(f"attributes.parent_run_id != '{parent}'") == []  # NULL never matches !=


ORDERS = [
    ((), "r5 r4 r3 r2 r1"),  # default: newest first
    (("metrics.auc",), "r4 r2 r1 r3 r5"),
    (("metrics.auc DESC",), "r3 r1 r2 r4 r5"),
    (("metrics.auc asc",), "r4 r2 r1 r3 r5"),
    (("metrics.loss",), "r3 r5 r1 r2 r4"),  # NaN after every number, missing last
    (("metrics.loss DESC",), "r1 r5 r3 r2 r4"),
    (("params.model",), "r2 r5 r1 r3 r4"),  # byte order: upper case first
    (("params.model DESC",), "r3 r1 r5 r2 r4"),
    (("tags.team", "metrics.auc DESC"), "r1 r3 r2 r4 r5"),
    (("attributes.end_time",), "r1 r2 r3 r5 r4"),
    (("end_time DESC",), "r5 r3 r2 r1 r4"),
    (("start_time",), "r1 r2 r3 r4 r5"),
    (("run_name",), "r5 r1 r2 r4 r3"),
    (("status", "start_time DESC"), "r3 r2 r1 r5 r4"),
    (("metrics.absent", "params.absent DESC"), "r5 r4 r3 r2 r1"),
]


@pytest.mark.parametrize(("order_by", "expected"), ORDERS, ids=[" ".join(o[0]) for o in ORDERS])
def test_order_by(data: Dataset, order_by: tuple[str, ...], expected: str) -> None:
    assert data.search(order_by=order_by) == expected.split()


def test_order_by_ties_are_broken_the_same_way_every_time(service: TrackingService) -> None:
    experiment_id = service.create_experiment("ties")
    run_ids = [service.create_run(experiment_id, start_time=7).info.run_id for _ in range(6)]
    for run_id in run_ids:
        service.log_metric(run_id, "m", 1.0)
    for order in ((), ("metrics.m",), ("metrics.m DESC", "params.none")):
        found = [r.info.run_id for r in service.search_runs([experiment_id], order_by=order)]
        assert found == sorted(run_ids)


@pytest.mark.parametrize("page_size", [1, 2, 3, 5, 6])
@pytest.mark.parametrize("order_by", [(), ("metrics.auc DESC",), ("params.model", "start_time")])
def test_paging_is_consistent_and_complete(
    data: Dataset, page_size: int, order_by: tuple[str, ...]
) -> None:
    everything = data.search(order_by=order_by)
    pages: list[list[str]] = []
    token = None
    while True:
        page = data.service.search_runs(
            [data.experiment_id], order_by=order_by, max_results=page_size, page_token=token
        )
        pages.append([data.names[r.info.run_id] for r in page])
        token = page.next_token
        if token is None:
            break
        assert len(page) == page_size
    flat = [name for page in pages for name in page]
    assert flat == everything
    assert len(set(flat)) == len(flat) == 5
    assert len(pages) == math.ceil(5 / page_size)


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "token",
    ["not a token", "%%%", _token({"offset": -1}), _token({"offset": "1"}), _token([1]),
     _token({"offset": True}), _token({}), base64.urlsafe_b64encode(b"\xff\xfe").decode()],
)  # fmt: skip
def test_invalid_page_token(data: Dataset, token: str) -> None:
    with pytest.raises(InvalidArgumentError, match="page_token"):
        data.service.search_runs([data.experiment_id], page_token=token)


def test_a_page_past_the_end_is_empty(data: Dataset) -> None:
    page = data.service.search_runs([data.experiment_id], page_token=_token({"offset": 50}))
    assert page == []
    assert page.next_token is None


@pytest.mark.parametrize(
    "filter",
    [
        "metrics.auc >",
        "metrics.auc > 'high'",
        "params.model > 'a'",
        "params.model = rf",
        "foo.bar = 1",
        "status = 'done'",
        "(metrics.auc > 1",
        "metrics.auc > 1)",
        "metrics.auc > 1 and",
        "metrics.auc LIKE '1%'",
        "start_time = nan",
        "params.model IN ()",
        "unknown_attribute = 'x'",
    ],
)
def test_malformed_filters_point_at_the_token(data: Dataset, filter: str) -> None:
    with pytest.raises(InvalidFilterError) as caught:
        data.search(filter)
    assert caught.value.position is not None
    assert 0 <= caught.value.position <= len(filter)


@pytest.mark.parametrize("order_by", ["metrics.auc sideways", "nope", "metrics.", ""])
def test_malformed_order_by(data: Dataset, order_by: str) -> None:
    with pytest.raises(InvalidFilterError):
        data.search(order_by=(order_by,))


def test_search_several_experiments(own_data: Dataset) -> None:
    data = own_data
    other = data.service.create_experiment("other")
    run_id = data.service.create_run(other, start_time=100).info.run_id
    data.service.log_param(run_id, "model", "rf")
    data.names[run_id] = "o1"
    runs = data.service.search_runs([data.experiment_id, other], filter="params.model = 'rf'")
    assert [data.names[r.info.run_id] for r in runs] == ["o1", "r1"]
    with pytest.raises(NotFoundError):
        data.service.search_runs([data.experiment_id, "9999"])


def test_search_returns_full_runs(data: Dataset) -> None:
    (run,) = data.service.search_runs([data.experiment_id], filter="params.model = 'xgb'")
    assert run == data.service.get_run(data.ids["r3"])
    assert run.data.params == {"model": "xgb"}
    assert run.data.metrics == {"auc": INF, "loss": 0.1}
    assert run.data.tags == {"team": "ops", "note": "50x"}


def test_ilike_folds_non_ascii_letters(service: TrackingService) -> None:
    experiment_id = service.create_experiment("unicode")
    names = {}
    for value in ("École", "école", "ECOLE", "Straße"):
        run_id = service.create_run(experiment_id).info.run_id
        service.set_tag(run_id, "t", value)
        names[run_id] = value

    def found(filter: str) -> list[str]:
        runs = service.search_runs([experiment_id], filter=filter)
        return sorted(names[r.info.run_id] for r in runs)

    assert found("tags.t ILIKE 'école'") == ["École", "école"]
    assert found("tags.t LIKE 'école'") == ["école"]
    assert found("tags.t ILIKE 'STRASSE'") == []
    assert found("tags.t ILIKE 'STRAßE'") == ["Straße"]


def test_strings_sort_by_code_point_whatever_the_collation(
    new_pg_database: Callable[..., str], tmp_path: Path
) -> None:
    """A PostgreSQL database whose default collation is linguistic sorts like SQLite."""
    url = new_pg_database(icu_locale="en-US")
    service = TrackingService(SqlTrackingStore(url), ArtifactStore(str(tmp_path)))
    experiment_id = service.create_experiment("collation")
    values = ["rf", "RF", "lin_reg", "a b", "ab", "Z", "é"]
    names = {}
    for value in values:
        run = service.create_run(experiment_id, run_name=value)
        service.log_param(run.info.run_id, "p", value)
        names[run.info.run_id] = value
    for order in ("params.p", "run_name"):
        runs = service.search_runs([experiment_id], order_by=[order])
        assert [names[r.info.run_id] for r in runs] == sorted(values)
        runs = service.search_runs([experiment_id], order_by=[f"{order} DESC"])
        assert [names[r.info.run_id] for r in runs] == sorted(values, reverse=True)


def test_order_by_takes_at_most_ten_keys(service: TrackingService) -> None:
    """Many sort keys crash SQLite 3.40 (SIGSEGV at about 20 sort joins): refuse them early."""
    experiment_id = service.create_experiment("keys")
    run_id = service.create_run(experiment_id).info.run_id
    service.log_batch(run_id, metrics=[(f"m{i}", 1.0, 0, 0) for i in range(10)])
    keys = [f"metrics.m{i} DESC" for i in range(10)]
    assert [r.info.run_id for r in service.search_runs([experiment_id], order_by=keys)] == [run_id]
    with pytest.raises(InvalidArgumentError, match="order_by"):
        service.search_runs([experiment_id], order_by=[*keys, "params.p"])
    with pytest.raises(InvalidArgumentError, match="order_by"):
        service.search_runs([experiment_id], order_by=[f"metrics.k{i}" for i in range(40)])


@pytest.mark.parametrize("value", [str(2**63), str(2**64), str(-(2**63) - 1)])
def test_experiment_ids_out_of_range_in_a_filter(service: TrackingService, value: str) -> None:
    experiment_id = service.create_experiment("range")
    with pytest.raises(InvalidFilterError, match="experiment_id"):
        service.search_runs([experiment_id], filter=f"attributes.experiment_id = '{value}'")
    with pytest.raises(InvalidFilterError, match="experiment_id"):
        service.search_runs([experiment_id], filter=f"experiment_id IN ('1', '{value}')")


def test_more_runs_than_one_sql_in_list(service: TrackingService) -> None:
    """A page of 1,000 runs is loaded in chunks of 500 ids, in order, with all their data."""
    experiment_id = service.create_experiment("many")
    rows = [
        {"run_id": f"{i:032x}", "experiment_id": int(experiment_id), "name": f"r{i}",
         "status": "finished", "start_time": i, "end_time": i, "lifecycle_stage": "active",
         "artifact_uri": "x"}
        for i in range(1_001)
    ]  # fmt: skip
    with service.store.engine.begin() as conn:
        conn.execute(insert(RunRow), rows)
        conn.execute(insert(ParamRow), [{"run_id": r["run_id"], "key": "i", "value": r["name"]}
                                        for r in rows])  # fmt: skip
    page = service.search_runs([experiment_id], order_by=["start_time"], max_results=1_000)
    assert [r.info.run_name for r in page] == [f"r{i}" for i in range(1_000)]
    assert all(r.data.params == {"i": r.info.run_name} for r in page)
    rest = service.search_runs([experiment_id], order_by=["start_time"], page_token=page.next_token)
    assert [r.info.run_name for r in rest] == ["r1000"]
    assert rest.next_token is None
