"""Reading and writing declarations: YAML text or files, canonical JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loopline.errors import InvalidArgumentError, MissingDependencyError

__all__ = ["canonical_json", "dump_yaml", "load_yaml", "read_policy_file"]


def canonical_json(spec: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: the text ``version`` hashes."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:
        raise MissingDependencyError(
            "YAML policies need pyyaml: pip install 'loopline[data]'."
        ) from None
    return yaml


def load_yaml(text_or_path: str | Path) -> Any:
    """The mapping in a YAML document, given as text or as a path to a .yaml/.yml file."""
    yaml = _yaml()
    text = str(text_or_path)
    if isinstance(text_or_path, Path) or ("\n" not in text and text.endswith((".yaml", ".yml"))):
        path = Path(text_or_path)
        if not path.is_file():
            raise InvalidArgumentError(f"policy: no YAML file at {str(path)!r}", path=str(path))
        text = path.read_text(encoding="utf-8")
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidArgumentError(f"policy: the YAML does not parse: {exc}") from None
    if spec is not None and not isinstance(spec, dict):
        raise InvalidArgumentError(f"policy: expected a YAML mapping, got {type(spec).__name__}")
    return spec


def read_policy_file(path: Path) -> dict[str, Any]:
    """The decision policy mapping in a file: JSON for ``.json``, YAML for any other name
    (``.yaml``, ``.yml``; YAML reads JSON too). Refuses an unreadable file, a document that does
    not parse and one that is not a mapping.

    Examples:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "policy.json"
        >>> _ = path.write_text('{"name": "loans"}')
        >>> read_policy_file(path)
        {'name': 'loans'}
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgumentError(f"Cannot read {path}: {exc.strerror}.", field="policy") from None
    yaml_file = path.suffix.lower() != ".json"
    parse = _yaml().safe_load if yaml_file else json.loads
    try:
        data = parse(raw)
    except Exception as exc:  # yaml.YAMLError or ValueError: both mean "not this format"
        kind = "YAML" if yaml_file else "JSON"
        raise InvalidArgumentError(f"{path} is not valid {kind}: {exc}", field="policy") from None
    if not isinstance(data, dict):
        raise InvalidArgumentError(
            f"{path} must hold a decision policy (a mapping); it holds {type(data).__name__}.",
            field="policy",
        )
    return data


def dump_yaml(spec: Any) -> str:
    return str(_yaml().safe_dump(spec, sort_keys=False, allow_unicode=True))
