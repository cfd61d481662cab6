"""Parse run search filters and order-by clauses into a small typed AST.

Grammar (keywords are case-insensitive; AND binds tighter than OR)::

    filter     := <empty> | or_expr EOF
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := primary ("AND" primary)*
    primary    := "(" or_expr ")" | comparison
    comparison := identifier ("=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") value
                | identifier ["NOT"] ("LIKE" | "ILIKE") string
                | identifier ["NOT"] "IN" "(" value ("," value)* ")"
                | identifier "IS" ["NOT"] "NULL"
    identifier := prefix "." key | attribute_name
    prefix     := metrics | metric | params | param | tags | tag | attributes | attribute | attr
    key        := [A-Za-z0-9_./-]+ | `backtick quoted` | "double quoted"
    value      := 'string' | "string" | number | nan | inf | -inf
    order_by   := identifier ["ASC" | "DESC"]

Strings escape with a backslash (``\\\\``, ``\\'``, ``\\"``; any other backslash is kept, so LIKE
patterns like ``'50\\%'`` survive) or by doubling the quote (``'it''s'``). Metrics and the
``start_time``/``end_time`` attributes compare as numbers; params, tags and the other attributes
compare as strings and must be quoted. ``nan`` always parses to the :data:`math.nan` object, so two
parsed ASTs containing nan compare equal. Every error is an :class:`InvalidFilterError` carrying
the 0-based ``position`` and the ``token`` text (``None`` at the end of the input).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from loopline.errors import InvalidFilterError

__all__ = [
    "And", "Comparison", "Entity", "Node", "Or", "OrderKey", "Vocabulary", "parse_filter",
    "parse_order_by",
]  # fmt: skip

Entity: TypeAlias = Literal["metric", "param", "tag", "attribute"]
Scalar: TypeAlias = str | float
Value: TypeAlias = Scalar | tuple[Scalar, ...] | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """``<entity>.<key> <op> <value>``; ``value`` is a tuple for IN and None for IS [NOT] NULL."""

    entity: Entity
    key: str
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


Node: TypeAlias = Comparison | And | Or


@dataclass(frozen=True, slots=True)
class OrderKey:
    entity: Entity
    key: str
    descending: bool = False


_PREFIXES: dict[str, Entity] = {
    "metrics": "metric", "metric": "metric", "params": "param", "param": "param",
    "tags": "tag", "tag": "tag", "attributes": "attribute", "attribute": "attribute",
    "attr": "attribute",
}  # fmt: skip
_ATTRIBUTES = (
    "run_id", "run_name", "status", "start_time", "end_time", "experiment_id", "parent_run_id",
    "lifecycle_stage",
)  # fmt: skip
MAX_DEPTH = 50  # nesting of parentheses
MAX_COMPARISONS = 200  # keeps every filter within what SQLite and PostgreSQL accept
_ATTRIBUTE_ALIASES = {"id": "run_id", "name": "run_name"}
_TIME_ATTRIBUTES = ("start_time", "end_time")
_STATUSES = ("running", "finished", "failed", "killed")  # loopline.entities.RunStatus values
_KEYWORDS = ("and", "or", "not", "like", "ilike", "in", "is", "null")
_SYMBOL_OPS = {
    "=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
}  # fmt: skip
_ORDERING_OPS = ("<", "<=", ">", ">=")
_COMPARATORS = "(=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS)"
_IDENTIFIER_EXAMPLES = "metrics.<key>, params.<key>, tags.<key> or an attribute name like status"

_STRING = r"""'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*\""""
_TOKEN_RE = re.compile(
    rf"""
    (?P<ws>\s+)
    |(?P<number>[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|inf(?:inity)?|nan)(?![\w.]))
    |(?P<badnumber>[+-]?\.?\d[\w.]*)
    |(?P<ident>[a-z_]\w*(?:\.(?:`[^`]*`|"(?:[^"\\]|\\.|"")*"|[\w./-]+)?)?)
    |(?P<string>{_STRING})
    |(?P<op>==|!=|<>|<=|>=|=|<|>)
    |(?P<punct>[(),])
    |(?P<bad>.)
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII | re.DOTALL,
)
_ESCAPES = {q: re.compile(rf"""\\([\\'"])|{q}{q}""") for q in "'\""}


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The attributes a filter may name: runs by default; registry searches pass their own.

    ``numeric`` attributes compare as numbers; ``status`` values must be one of ``statuses``.
    """

    attributes: tuple[str, ...]
    aliases: dict[str, str]
    numeric: tuple[str, ...]
    statuses: tuple[str, ...]
    entities: tuple[Entity, ...] = ("metric", "param", "tag", "attribute")
    noun: str = "run"


RUNS = Vocabulary(_ATTRIBUTES, _ATTRIBUTE_ALIASES, _TIME_ATTRIBUTES, _STATUSES)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number | ident | string | op | punct | eof
    text: str
    pos: int


def _error(what: str, pos: int, token: str | None, message: str) -> InvalidFilterError:
    where = f"near {token!r}" if token is not None else "(end of input)"
    return InvalidFilterError(
        f"Invalid {what} at position {pos} {where}: {message}", position=pos, token=token
    )


def _tokenize(text: str, what: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN_RE.finditer(text):
        kind, tok, pos = match.lastgroup or "bad", match.group(), match.start()
        if kind == "badnumber":
            raise _error(what, pos, tok, f"malformed number {tok!r}")
        if kind == "bad":
            if tok in "'\"":
                raise _error(what, pos, tok, f"unterminated string: no closing {tok}")
            if tok == "`":
                raise _error(what, pos, tok, "unterminated backtick-quoted key: no closing `")
            raise _error(what, pos, tok, f"unexpected character {tok!r}")
        if kind != "ws":
            tokens.append(_Token(kind, tok, pos))
    tokens.append(_Token("eof", "", len(text)))
    return tokens


def _unquote(quoted: str) -> str:
    """The content of a quoted string or key, with escapes resolved."""
    quote, body = quoted[0], quoted[1:-1]
    if quote == "`":
        return body
    return _ESCAPES[quote].sub(lambda match: match.group(1) or quote, body)


def _is_word(tok: _Token, *words: str) -> bool:
    return tok.kind == "ident" and tok.text.lower() in words


def _combine(cls: type[And] | type[Or], items: list[Node]) -> Node:
    """Collapse one-item groups and flatten ``a AND (b AND c)`` into ``And((a, b, c))``."""
    if len(items) == 1:
        return items[0]
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat))


class _Parser:
    def __init__(self, text: str, what: str, vocabulary: Vocabulary = RUNS) -> None:
        self.what = what
        self.vocabulary = vocabulary
        self.tokens = _tokenize(text, what)
        self.index = 0
        self.depth = 0
        self.comparisons = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def next(self) -> _Token:
        tok = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return tok

    def error(self, tok: _Token, message: str) -> InvalidFilterError:
        return _error(self.what, tok.pos, tok.text if tok.kind != "eof" else None, message)

    def expect_end(self, message: str) -> None:
        tok = self.peek()
        if tok.kind != "eof":
            raise self.error(tok, "unmatched ')'" if tok.text == ")" else message)

    # -- filter expressions -------------------------------------------------------------------

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while _is_word(self.peek(), "or"):
            self.next()
            items.append(self.and_expr())
        return _combine(Or, items)

    def and_expr(self) -> Node:
        items = [self.primary()]
        while _is_word(self.peek(), "and"):
            self.next()
            items.append(self.primary())
        return _combine(And, items)

    def primary(self) -> Node:
        tok = self.peek()
        if tok.text == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error(tok, f"parentheses nest deeper than {MAX_DEPTH} levels")
            self.next()
            node = self.or_expr()
            self.depth -= 1
            close = self.next()
            if close.text != ")":
                raise self.error(close, f"expected AND, OR or ')' to close '(' at {tok.pos}")
            return node
        if _is_word(tok, "not"):
            raise self.error(tok, "NOT only works in NOT LIKE, NOT ILIKE, NOT IN and IS NOT NULL")
        return self.comparison()

    def comparison(self) -> Comparison:
        ident = self.next()
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise self.error(ident, f"a filter may hold at most {MAX_COMPARISONS} comparisons")
        entity, key = self.identifier(ident)
        label = ident.text
        if entity == "metric" or (entity == "attribute" and key in self.vocabulary.numeric):
            kind = "metric" if entity == "metric" else "time"
        else:
            kind = "status" if (entity, key) == ("attribute", "status") else "string"
        op_tok = self.peek()
        op = self.comparator(label)
        if kind in ("metric", "time") and "LIKE" in op:
            raise self.error(op_tok, f"{op} needs a string field, but {label} is numeric")
        if kind in ("string", "status") and op in _ORDERING_OPS:
            hint = "use =, !=, LIKE, ILIKE or IN"
            raise self.error(op_tok, f"{op} compares numbers, but {label} is a string ({hint})")
        if "LIKE" in op and kind == "status":
            kind = "string"  # a pattern, not a status name
        value: Value = None
        if op.endswith("IN"):
            value = self.in_list(kind, label, op)
        elif not op.startswith("IS"):
            value = self.value(kind, label)
        return Comparison(entity, key, op, value)

    def comparator(self, label: str) -> str:
        tok = self.next()
        word = tok.text.upper() if tok.kind == "ident" else ""
        if tok.kind == "op":
            return _SYMBOL_OPS[tok.text]
        if word in ("LIKE", "ILIKE", "IN"):
            return word
        if word == "NOT":
            after = self.next()
            if _is_word(after, "like", "ilike", "in"):
                return f"NOT {after.text.upper()}"
            raise self.error(after, "expected LIKE, ILIKE or IN after NOT")
        if word == "IS":
            after = self.next()
            negated = _is_word(after, "not")
            after = self.next() if negated else after
            if not _is_word(after, "null"):
                expected = "NULL" if negated else "NULL or NOT NULL"
                raise self.error(after, f"expected {expected} after IS")
            return "IS NOT NULL" if negated else "IS NULL"
        raise self.error(tok, f"expected a comparator {_COMPARATORS} after {label!r}")

    def in_list(self, kind: str, label: str, op: str) -> tuple[Scalar, ...]:
        opening = self.next()
        if opening.text != "(":
            raise self.error(opening, f"expected '(' after {op}")
        if self.peek().text == ")":
            raise self.error(self.peek(), f"empty {op} list: give at least one value")
        values = [self.value(kind, label)]
        while (tok := self.next()).text != ")":
            if tok.text != ",":
                raise self.error(tok, f"expected ',' or ')' in the {op} list at {opening.pos}")
            values.append(self.value(kind, label))
        return tuple(values)

    def value(self, kind: str, label: str) -> Scalar:
        tok = self.next()
        if kind in ("metric", "time"):
            if tok.kind == "number":
                number = float(tok.text)
                if math.isnan(number):
                    number = math.nan
                if kind == "time" and not math.isfinite(number):
                    raise self.error(tok, f"{label} needs a finite number (nan/inf: metrics only)")
                return number
            if tok.kind == "string":
                raise self.error(tok, f"{label} is numeric: expected a number, not {tok.text}")
            raise self.error(tok, f"expected a number for {label}")
        if tok.kind == "number":
            raise self.error(tok, f"{label} is a string: quote the value, e.g. '{tok.text}'")
        if tok.kind != "string":
            raise self.error(tok, f"expected a quoted string for {label}")
        text = _unquote(tok.text)
        if kind == "status":
            text, statuses = text.lower(), self.vocabulary.statuses
            if text not in statuses:
                expected = ", ".join(statuses)
                noun = self.vocabulary.noun
                raise self.error(tok, f"unknown {noun} status {text!r}: expected one of {expected}")
        return text

    # -- identifiers ----------------------------------------------------------------------------

    def identifier(self, tok: _Token) -> tuple[Entity, str]:
        if tok.kind != "ident" or tok.text.lower() in _KEYWORDS:
            raise self.error(tok, f"expected an identifier such as {_IDENTIFIER_EXAMPLES}")
        prefix, dot, raw_key = tok.text.partition(".")
        if not dot:
            return "attribute", self.attribute(tok, prefix)
        entity = _PREFIXES.get(prefix.lower())
        if entity is None or entity not in self.vocabulary.entities:
            plural = [p for p in _PREFIXES if p.endswith("s") and _PREFIXES[p] in
                      self.vocabulary.entities]  # fmt: skip
            close = difflib.get_close_matches(prefix.lower(), plural, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(plural)}"
            raise self.error(tok, f"unknown entity {prefix!r}: {hint}")
        key = _unquote(raw_key) if raw_key[:1] in ('"', "`") else raw_key
        if not key:
            hint = "quote keys with backticks or double quotes"
            raise self.error(tok, f"missing key after '{prefix}.' ({hint})")
        return entity, self.attribute(tok, key) if entity == "attribute" else key

    def attribute(self, tok: _Token, name: str) -> str:
        words = self.vocabulary
        name = words.aliases.get(name.lower(), name.lower())
        if name not in words.attributes:
            close = difflib.get_close_matches(name, [*words.attributes, *words.aliases], n=1)
            other = "metrics.<key> for a metric" if "metric" in words.entities else "tags.<key>"
            hint = f"did you mean {close[0]!r}?" if close else f"use {other}"
            known = ", ".join(words.attributes)
            raise self.error(tok, f"unknown attribute {name!r} ({hint}); attributes are {known}")
        return name

    def order_key(self) -> OrderKey:
        ident = self.next()
        entity, key = self.identifier(ident)
        descending = False
        if _is_word(self.peek(), "asc", "desc"):
            descending = self.next().text.lower() == "desc"
        elif self.peek().kind != "eof":
            raise self.error(self.peek(), f"expected ASC or DESC after {ident.text!r}")
        self.expect_end("unexpected trailing token: an order_by clause is <identifier> [ASC|DESC]")
        return OrderKey(entity, key, descending)


def parse_filter(text: str | None, vocabulary: Vocabulary = RUNS) -> Node | None:
    """Parse a search filter; None, empty or whitespace-only text means "match all" (None).

    ``vocabulary`` names the attributes of what is searched (runs unless given).
    """
    if text is None or not text.strip():
        return None
    parser = _Parser(text, "filter", vocabulary)
    node = parser.or_expr()
    parser.expect_end("expected AND, OR or the end of the filter after a complete condition")
    return node


def parse_order_by(items: Sequence[str]) -> tuple[OrderKey, ...]:
    """Parse order-by clauses such as ``"metrics.auc DESC"`` or ``"start_time"`` (ascending)."""
    if isinstance(items, str):
        raise TypeError("parse_order_by expects a sequence of clauses, not a single string")
    return tuple(_Parser(item, f"order_by clause {item!r}").order_key() for item in items)
