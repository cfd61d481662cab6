from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopline.errors import InvalidArgumentError, InvalidFilterError
from loopline.filters import (
    And,
    Comparison,
    Node,
    Or,
    OrderKey,
    parse_filter,
    parse_order_by,
)


def metric(key: str, op: str, value: object) -> Comparison:
    return Comparison("metric", key, op, value)  # type: ignore[arg-type]


def param(key: str, op: str, value: object) -> Comparison:
    return Comparison("param", key, op, value)  # type: ignore[arg-type]


def tag(key: str, op: str, value: object) -> Comparison:
    return Comparison("tag", key, op, value)  # type: ignore[arg-type]


def attr(key: str, op: str, value: object) -> Comparison:
    return Comparison("attribute", key, op, value)  # type: ignore[arg-type]


# -- valid filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t "])
def test_empty_filter_matches_all(text: str | None) -> None:
    assert parse_filter(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.auc > 0.9", metric("auc", ">", 0.9)),
        ("metric.auc>=1", metric("auc", ">=", 1.0)),
        ("metrics.loss < -1.5e-3", metric("loss", "<", -1.5e-3)),
        ("metrics.loss <= +2E3", metric("loss", "<=", 2000.0)),
        ("metrics.x = .5", metric("x", "=", 0.5)),
        ("metrics.x == 1.", metric("x", "=", 1.0)),
        ("metrics.x <> 3", metric("x", "!=", 3.0)),
        ("metrics.x != 3", metric("x", "!=", 3.0)),
        ("metrics.x < inf", metric("x", "<", math.inf)),
        ("metrics.x > -INF", metric("x", ">", -math.inf)),
        ("metrics.x > -Infinity", metric("x", ">", -math.inf)),
        ("metrics.val.auc > 0.5", metric("val.auc", ">", 0.5)),
        ("metrics.a-b/c_d.e > 0", metric("a-b/c_d.e", ">", 0.0)),
        ("metrics.`my key` > 0", metric("my key", ">", 0.0)),
        ("metrics.`a-b` > 0", metric("a-b", ">", 0.0)),
        ('metrics."my key" > 0', metric("my key", ">", 0.0)),
        ('metrics."say ""hi""" > 0', metric('say "hi"', ">", 0.0)),
        ('metrics."a\\"b" > 0', metric('a"b', ">", 0.0)),
        ("metrics.1st > 0", metric("1st", ">", 0.0)),
        ("METRICS.Auc > 0", metric("Auc", ">", 0.0)),
        ("metrics.x IN (1, 2.5, -inf)", metric("x", "IN", (1.0, 2.5, -math.inf))),
        ("metrics.x not in (1)", metric("x", "NOT IN", (1.0,))),
        ("metrics.x IS NULL", metric("x", "IS NULL", None)),
        ("metrics.x is not null", metric("x", "IS NOT NULL", None)),
        ("params.model = 'xgb'", param("model", "=", "xgb")),
        ('param.model = "xgb"', param("model", "=", "xgb")),
        ("params.lr = '0.01'", param("lr", "=", "0.01")),
        ("params.model != ''", param("model", "!=", "")),
        ("params.model LIKE 'xg%'", param("model", "LIKE", "xg%")),
        ("params.model ilike '%GB'", param("model", "ILIKE", "%GB")),
        ("params.model NOT LIKE 'x_b'", param("model", "NOT LIKE", "x_b")),
        ("params.model not ilike 'x'", param("model", "NOT ILIKE", "x")),
        ("params.model in ('a', \"b\")", param("model", "IN", ("a", "b"))),
        ("params.model NOT IN ('a')", param("model", "NOT IN", ("a",))),
        ("params.model is null", param("model", "IS NULL", None)),
        ("params.`batch size` = '32'", param("batch size", "=", "32")),
        ("tags.mlflow.runName = 'x'", tag("mlflow.runName", "=", "x")),
        ("tag.team = 'ml'", tag("team", "=", "ml")),
        ("tags.note = 'it''s'", tag("note", "=", "it's")),
        ("tags.note = 'it\\'s'", tag("note", "=", "it's")),
        ('tags.note = "say ""hi"""', tag("note", "=", 'say "hi"')),
        ('tags.note = "a\\"b"', tag("note", "=", 'a"b')),
        ("tags.note = 'a\\\\b'", tag("note", "=", "a\\b")),
        ("tags.note LIKE '50\\%'", tag("note", "LIKE", "50\\%")),
        ("tags.note = 'a \"quoted\" word'", tag("note", "=", 'a "quoted" word')),
        ("tags.note = 'and or ( ) ,'", tag("note", "=", "and or ( ) ,")),
        ("tags.note = 'multi\nline'", tag("note", "=", "multi\nline")),
        ("tags.note = 'ünïcode'", tag("note", "=", "ünïcode")),
        ("status = 'RUNNING'", attr("status", "=", "running")),
        ("attributes.status != 'Failed'", attr("status", "!=", "failed")),
        ("attribute.status IN ('finished','KILLED')", attr("status", "IN", ("finished", "killed"))),
        ("attr.status LIKE 'RUN%'", attr("status", "LIKE", "RUN%")),
        ("status = 'running'", attr("status", "=", "running")),
        ("run_id = 'abc'", attr("run_id", "=", "abc")),
        ("id = 'abc'", attr("run_id", "=", "abc")),
        ("attributes.id = 'abc'", attr("run_id", "=", "abc")),
        ("name LIKE 'exp%'", attr("run_name", "LIKE", "exp%")),
        ("attributes.run_name = 'x'", attr("run_name", "=", "x")),
        ("attributes.`run_name` = 'x'", attr("run_name", "=", "x")),
        ("Status = 'killed'", attr("status", "=", "killed")),
        ("experiment_id = '1'", attr("experiment_id", "=", "1")),
        ("parent_run_id IS NULL", attr("parent_run_id", "IS NULL", None)),
        ("lifecycle_stage = 'active'", attr("lifecycle_stage", "=", "active")),
        ("start_time >= 1700000000000", attr("start_time", ">=", 1700000000000.0)),
        ("attributes.end_time IS NOT NULL", attr("end_time", "IS NOT NULL", None)),
        ("end_time IN (1, 2)", attr("end_time", "IN", (1.0, 2.0))),
    ],
)
def test_single_comparison(text: str, expected: Comparison) -> None:
    assert parse_filter(text) == expected


def test_nan_parses_to_the_math_nan_singleton() -> None:
    node = parse_filter("metrics.x = NaN")
    assert isinstance(node, Comparison)
    assert node.value is math.nan
    assert node == metric("x", "=", math.nan)
    assert parse_filter("metrics.x IN (nan, -nan)") == metric("x", "IN", (math.nan, math.nan))


def test_and_binds_tighter_than_or() -> None:
    a, b, c = metric("a", ">", 1.0), param("b", "=", "x"), tag("c", "=", "y")
    text = "metrics.a > 1 OR params.b = 'x' AND tags.c = 'y'"
    assert parse_filter(text) == Or((a, And((b, c))))
    text = "metrics.a > 1 and params.b = 'x' or tags.c = 'y'"
    assert parse_filter(text) == Or((And((a, b)), c))


def test_parentheses_override_precedence() -> None:
    a, b, c = metric("a", ">", 1.0), param("b", "=", "x"), tag("c", "=", "y")
    text = "(metrics.a > 1 OR params.b = 'x') AND tags.c = 'y'"
    assert parse_filter(text) == And((Or((a, b)), c))
    assert parse_filter("((metrics.a > 1))") == a


def test_nested_groups_of_the_same_kind_are_flattened() -> None:
    a, b, c = metric("a", ">", 1.0), param("b", "=", "x"), tag("c", "=", "y")
    assert parse_filter("metrics.a > 1 and (params.b = 'x' and tags.c = 'y')") == And((a, b, c))
    assert parse_filter("(metrics.a > 1 or params.b = 'x') or tags.c = 'y'") == Or((a, b, c))
    assert parse_filter("metrics.a>1 AND params.b='x' AnD tags.c='y'") == And((a, b, c))


def test_no_whitespace_needed_around_symbols() -> None:
    assert parse_filter("(metrics.a<-1)and(params.b!='x')") == And(
        (metric("a", "<", -1.0), param("b", "!=", "x"))
    )
    assert parse_filter("metrics.a in(1,2)") == metric("a", "IN", (1.0, 2.0))


def test_ast_is_frozen_and_hashable() -> None:
    node = parse_filter("metrics.a > 1 and params.b in ('x', 'y')")
    assert isinstance(node, And)
    assert hash(node) == hash(parse_filter("metrics.a > 1 AND params.b IN ('x','y')"))
    with pytest.raises(AttributeError):
        node.items = ()  # type: ignore[misc]


# -- invalid filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "token", "fragment"),
    [
        ("metrics.auc foo", 12, "foo", "expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE"),
        ("metrics.auc", 11, None, "expected a comparator"),
        ("metrics.auc >", 13, None, "expected a number for metrics.auc"),
        ("metrics.auc > and", 14, "and", "expected a number"),
        ("metrics.auc = 'high'", 14, "'high'", "metrics.auc is numeric"),
        ("metrics.auc in (1, 'x')", 19, "'x'", "is numeric"),
        ("metrics.auc LIKE '1%'", 12, "LIKE", "LIKE needs a string field"),
        ("metrics.auc NOT ILIKE '1%'", 12, "NOT", "NOT ILIKE needs a string field"),
        ("params.lr = 0.01", 12, "0.01", "quote the value, e.g. '0.01'"),
        ("params.lr in ('1', 2)", 19, "2", "quote the value"),
        ("params.model = xgb", 15, "xgb", "expected a quoted string for params.model"),
        ("params.model > 'a'", 13, ">", "> compares numbers, but params.model is a string"),
        ("status <= 'running'", 7, "<=", "compares numbers"),
        ("status = 'runing'", 9, "'runing'", "unknown run status 'runing'"),
        ("status in ('running', 'done')", 22, "'done'", "expected one of running, finished"),
        ("start_time > '2024'", 13, "'2024'", "start_time is numeric"),
        ("start_time > inf", 13, "inf", "needs a finite number"),
        ("end_time = nan", 11, "nan", "finite"),
        ("metricz.auc > 1", 0, "metricz.auc", "unknown entity 'metricz': did you mean 'metrics'?"),
        ("paramz.lr = '1'", 0, "paramz.lr", "did you mean 'params'?"),
        ("foo.bar = '1'", 0, "foo.bar", "use one of metrics, params, tags, attributes"),
        ("attributes.foo = 'x'", 0, "attributes.foo", "unknown attribute 'foo'"),
        ("attributes.statuz = 'x'", 0, "attributes.statuz", "did you mean 'status'?"),
        ("auc > 0.5", 0, "auc", "use metrics.<key> for a metric"),
        ("metrics. > 1", 0, "metrics.", "missing key after 'metrics.'"),
        ("metrics.`` > 1", 0, "metrics.``", "missing key"),
        ("metrics.`abc > 1", 8, "`", "unterminated backtick-quoted key"),
        ('metrics."abc > 1', 8, '"', "unterminated string"),
        ("params.a = 'abc", 11, "'", "unterminated string: no closing '"),
        ('params.a = "abc\\"', 11, '"', "unterminated string"),
        ("metrics.a > 1.2.3", 12, "1.2.3", "malformed number"),
        ("metrics.a > 1e", 12, "1e", "malformed number"),
        ("metrics.a > 12abc", 12, "12abc", "malformed number"),
        ("metrics.a > - 1", 12, "-", "unexpected character '-'"),
        ("metrics.a ! 1", 10, "!", "unexpected character '!'"),
        ("metrics.a > 1 ; drop", 14, ";", "unexpected character"),
        ("metrics.a > 1 params.b = 'x'", 14, "params.b", "expected AND, OR or the end"),
        ("metrics.a > 1 and", 17, None, "expected an identifier"),
        ("metrics.a > 1 or or params.b = 'x'", 17, "or", "expected an identifier"),
        ("and metrics.a > 1", 0, "and", "expected an identifier"),
        ("= 1", 0, "=", "expected an identifier"),
        ("'x' = params.a", 0, "'x'", "expected an identifier"),
        ("(metrics.a > 1", 14, None, "expected AND, OR or ')' to close '(' at 0"),
        ("((metrics.a > 1)", 16, None, "to close '(' at 0"),
        ("(metrics.a > 1 params.b = 'x')", 15, "params.b", "to close '(' at 0"),
        ("metrics.a > 1)", 13, ")", "unmatched ')'"),
        ("()", 1, ")", "expected an identifier"),
        ("(", 1, None, "expected an identifier"),
        ("metrics.a in ()", 14, ")", "empty IN list"),
        ("params.a not in ()", 17, ")", "empty NOT IN list"),
        ("metrics.a in 1", 13, "1", "expected '(' after IN"),
        ("metrics.a in (1,)", 16, ")", "expected a number"),
        ("metrics.a in (1 2)", 16, "2", "expected ',' or ')' in the IN list at 13"),
        ("metrics.a in (1", 15, None, "expected ',' or ')'"),
        ("metrics.a not = 1", 14, "=", "expected LIKE, ILIKE or IN after NOT"),
        ("metrics.a is 1", 13, "1", "expected NULL or NOT NULL after IS"),
        ("metrics.a is not", 16, None, "expected NULL after IS"),
        ("NOT metrics.a > 1", 0, "NOT", "NOT only works in NOT LIKE"),
    ],
)
def test_invalid_filter(text: str, position: int, token: str | None, fragment: str) -> None:
    with pytest.raises(InvalidFilterError) as info:
        parse_filter(text)
    err = info.value
    assert (err.position, err.token) == (position, token)
    assert fragment in str(err)
    where = f"near {token!r}" if token is not None else "(end of input)"
    assert str(err).startswith(f"Invalid filter at position {position} {where}: ")
    assert err.details == {"position": position, "token": token}


def test_error_message_matches_the_documented_shape() -> None:
    with pytest.raises(InvalidFilterError) as info:
        parse_filter("metrics.auc > 1 and metrics.auc foo")
    assert str(info.value) == (
        "Invalid filter at position 32 near 'foo': expected a comparator "
        "(=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS) after 'metrics.auc'"
    )


def test_invalid_filter_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="position 0") as info:
        parse_filter("bogus > 1")
    assert isinstance(info.value, InvalidArgumentError)
    assert info.value.code == "INVALID_FILTER"


# -- order_by --------------------------------------------------------------------------------------


def test_parse_order_by() -> None:
    assert parse_order_by(
        [
            "metrics.auc DESC",
            "params.model",
            "attributes.start_time asc",
            "start_time",
            "metrics.`val loss` desc",
            "tags.team Asc",
            "name",
            "metrics.val.auc",
        ]
    ) == (
        OrderKey("metric", "auc", descending=True),
        OrderKey("param", "model"),
        OrderKey("attribute", "start_time"),
        OrderKey("attribute", "start_time"),
        OrderKey("metric", "val loss", descending=True),
        OrderKey("tag", "team"),
        OrderKey("attribute", "run_name"),
        OrderKey("metric", "val.auc"),
    )
    assert parse_order_by([]) == ()
    assert parse_order_by(("  status  ",)) == (OrderKey("attribute", "status"),)


@pytest.mark.parametrize(
    ("item", "position", "token", "fragment"),
    [
        ("metrics.auc DESCX", 12, "DESCX", "expected ASC or DESC after 'metrics.auc'"),
        ("metrics.auc descending", 12, "descending", "expected ASC or DESC"),
        ("metrics.auc desc x", 17, "x", "unexpected trailing token"),
        ("metrics.auc desc, params.a", 16, ",", "unexpected trailing token"),
        ("metrics.auc > 1", 12, ">", "expected ASC or DESC"),
        ("", 0, None, "expected an identifier"),
        ("   ", 3, None, "expected an identifier"),
        ("desc", 0, "desc", "unknown attribute 'desc'"),
        ("metricz.auc", 0, "metricz.auc", "did you mean 'metrics'?"),
        ("attributes.nope", 0, "attributes.nope", "unknown attribute 'nope'"),
        ("metrics.", 0, "metrics.", "missing key"),
        ("metrics.'auc'", 0, "metrics.", "quote keys with backticks or double quotes"),
        ("metrics.`auc", 8, "`", "unterminated backtick-quoted key"),
    ],
)
def test_invalid_order_by(item: str, position: int, token: str | None, fragment: str) -> None:
    with pytest.raises(InvalidFilterError) as info:
        parse_order_by(["metrics.ok", item])
    err = info.value
    assert (err.position, err.token) == (position, token)
    assert fragment in str(err)
    assert str(err).startswith(f"Invalid order_by clause {item!r} at position {position} ")


def test_order_by_rejects_a_bare_string() -> None:
    with pytest.raises(TypeError, match="sequence"):
        parse_order_by("metrics.auc")


# -- round trip ------------------------------------------------------------------------------------

_SAFE_KEY = re.compile(r"[A-Za-z0-9_./-]+")
_STATUSES = ("running", "finished", "failed", "killed")
_STRING_ATTRIBUTES = ("run_id", "run_name", "experiment_id", "parent_run_id", "lifecycle_stage")

keys = st.text(min_size=1, max_size=12)
strings = st.text(max_size=12)
metric_numbers = st.floats().map(lambda x: math.nan if math.isnan(x) else x)
times = st.integers(min_value=0, max_value=2**53).map(float)


def _comparisons(
    entity: str, key: st.SearchStrategy[str], value: st.SearchStrategy[str | float], *, text: bool
) -> st.SearchStrategy[Comparison]:
    ops = ["=", "!=", "IN", "NOT IN", "IS NULL", "IS NOT NULL"]
    ops += ["LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"] if text else ["<", "<=", ">", ">="]

    def build(key: str, op: str, scalar: str | float, more: list[str | float]) -> Comparison:
        if op.startswith("IS"):
            return Comparison(entity, key, op, None)  # type: ignore[arg-type]
        if op.endswith("IN"):
            return Comparison(entity, key, op, (scalar, *more))  # type: ignore[arg-type]
        return Comparison(entity, key, op, scalar)  # type: ignore[arg-type]

    return st.builds(build, key, st.sampled_from(ops), value, st.lists(value, max_size=3))


comparisons = st.one_of(
    _comparisons("metric", keys, metric_numbers, text=False),
    _comparisons("param", keys, strings, text=True),
    _comparisons("tag", keys, strings, text=True),
    _comparisons("attribute", st.sampled_from(_STRING_ATTRIBUTES), strings, text=True),
    _comparisons("attribute", st.sampled_from(("start_time", "end_time")), times, text=False),
    _comparisons("attribute", st.just("status"), st.sampled_from(_STATUSES), text=True),
)


def _group(cls: type[And] | type[Or], children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    # Canonical form, as the parser produces it: no group directly inside a group of its own kind.
    child = children.filter(lambda node: not isinstance(node, cls))
    return st.lists(child, min_size=2, max_size=3).map(lambda items: cls(tuple(items)))


nodes: st.SearchStrategy[Node] = st.recursive(
    comparisons,
    lambda children: st.one_of(_group(And, children), _group(Or, children)),
    max_leaves=8,
)


def _render_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _render_key(key: str) -> str:
    if _SAFE_KEY.fullmatch(key):
        return key
    if "`" not in key:
        return f"`{key}`"
    return '"' + key.replace("\\", "\\\\").replace('"', '""') + '"'


def _render_value(value: str | float) -> str:
    return _render_string(value) if isinstance(value, str) else repr(value)


def render(node: Node) -> str:
    if isinstance(node, And):
        return " AND ".join(
            f"({render(n)})" if isinstance(n, Or) else render(n) for n in node.items
        )
    if isinstance(node, Or):
        return " or ".join(render(item) for item in node.items)
    prefix = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": "attributes"}
    left = f"{prefix[node.entity]}.{_render_key(node.key)} {node.op}"
    if node.value is None:
        return left
    if isinstance(node.value, tuple):
        return f"{left} ({', '.join(_render_value(v) for v in node.value)})"
    return f"{left} {_render_value(node.value)}"


@settings(max_examples=300)
@given(nodes)
def test_round_trip(node: Node) -> None:
    assert parse_filter(render(node)) == node


@given(nodes)
def test_round_trip_with_redundant_parentheses(node: Node) -> None:
    assert parse_filter(f"( ({render(node)}) )") == node
