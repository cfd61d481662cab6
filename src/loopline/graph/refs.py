"""References to lineage nodes: parsed from text, or read off a dataset version, run or model.

Accepted forms: ``dataset:<name>/<version>`` (or a version's own URI, ``datasets:/<name>/<v>``),
``run:<run id>``, ``models:/<name>/<version>``, ``models:/<name>/latest`` and
``models:/<name>@<alias>``. Dataset and model names may contain ``/``: the version is the text
after the last one.

Examples:
    >>> ref = parse_ref("dataset:flights/3")
    >>> ref.kind.value, ref.name, ref.version
    ('dataset_version', 'flights', 3)
    >>> parse_ref("models:/churn@champion").node_id
    'models:/churn@champion'
    >>> parse_ref("flights")
    Traceback (most recent call last):
    ...
    loopline.errors.InvalidArgumentError: The 'ref' parameter of lineage must be 'dataset:<name>/<version>', 'run:<run id>', 'models:/<name>/<version>' or 'models:/<name>@<alias>'. Got 'flights' instead.
"""  # noqa: E501

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loopline.entities import DatasetVersion, ModelVersion, NodeKind, Run, RunInfo
from loopline.errors import InvalidArgumentError

__all__ = ["Ref", "node_id", "parse_ref", "ref_of"]

_FORMS = (
    "'dataset:<name>/<version>', 'run:<run id>', 'models:/<name>/<version>' or "
    "'models:/<name>@<alias>'"
)


@dataclass(frozen=True, slots=True)
class Ref:
    """A parsed reference: ``name`` is the run id for runs; ``version`` None means latest."""

    kind: NodeKind
    name: str
    version: int | None = None
    alias: str | None = None

    @property
    def node_id(self) -> str:
        if self.kind is NodeKind.RUN:
            return node_id(NodeKind.RUN, self.name)
        if self.kind is NodeKind.ALIAS:
            return node_id(NodeKind.ALIAS, self.name, self.alias)
        return node_id(self.kind, self.name, self.version if self.version else "latest")


def node_id(kind: NodeKind, name: str, part: object = None) -> str:
    """The id of a node: the reference that names it."""
    if kind is NodeKind.DATASET_VERSION:
        return f"dataset:{name}/{part}"
    if kind is NodeKind.RUN:
        return f"run:{name}"
    if kind is NodeKind.MODEL_VERSION:
        return f"models:/{name}/{part}"
    return f"models:/{name}@{part}"


def _bad(value: object, why: str = "") -> InvalidArgumentError:
    detail = f" ({why})" if why else ""
    return InvalidArgumentError(
        f"The 'ref' parameter of lineage must be {_FORMS}{detail}. Got {str(value)[:200]!r} "
        "instead.",
        field="ref",
    )


def _versioned(text: str, rest: str) -> tuple[str, int | None]:
    name, slash, tail = rest.rpartition("/")
    if not slash or not name:
        raise _bad(text, "it names no version")
    if tail == "latest":
        return name, None
    if not tail.isdecimal() or not 1 <= int(tail) < 2**31:
        raise _bad(text, f"the version {tail[:40]!r} is not a positive integer")
    return name, int(tail)


def parse_ref(text: object) -> Ref:
    """The node a reference string names (InvalidArgumentError when it names none)."""
    if not isinstance(text, str) or not text.strip() or len(text) > 4096:
        raise _bad(text)
    for prefix in ("dataset:", "datasets:/"):
        if text.startswith(prefix):
            name, version = _versioned(text, text[len(prefix) :])
            return Ref(NodeKind.DATASET_VERSION, name, version)
    if text.startswith("run:"):
        run_id = text[len("run:") :]
        if not run_id or "/" in run_id or len(run_id) > 32:
            raise _bad(text, "a run id is 1 to 32 characters without '/'")
        return Ref(NodeKind.RUN, run_id)
    if text.startswith("models:/"):
        rest = text[len("models:/") :]
        head, slash, tail = rest.rpartition("/")
        if slash and head and (tail == "latest" or tail.isdecimal()):
            name, version = _versioned(text, rest)
            return Ref(NodeKind.MODEL_VERSION, name, version)
        name, at, alias = rest.rpartition("@")
        if at and name and alias:
            return Ref(NodeKind.ALIAS, name, alias=alias)
        raise _bad(text, "it names no version: end it with '/<version>' or '@<alias>'")
    raise _bad(text)


def ref_of(obj: Any) -> str:
    """The reference of a DatasetVersion, Run (or active run) or ModelVersion; text is checked."""
    if isinstance(obj, DatasetVersion):
        return node_id(NodeKind.DATASET_VERSION, obj.name, obj.version)
    if isinstance(obj, RunInfo):
        return node_id(NodeKind.RUN, obj.run_id)
    if isinstance(obj, Run) or isinstance(getattr(obj, "info", None), RunInfo):
        return node_id(NodeKind.RUN, obj.info.run_id)  # a Run, or the SDK's ActiveRun
    if isinstance(obj, ModelVersion):
        return node_id(NodeKind.MODEL_VERSION, obj.name, obj.version)
    if isinstance(obj, str):
        parse_ref(obj)
        return obj
    raise InvalidArgumentError(
        "The 'obj' parameter of lineage must be a DatasetVersion, Run, ModelVersion or a "
        f"reference ({_FORMS}). Got {type(obj).__name__} instead.",
        field="obj",
    )
