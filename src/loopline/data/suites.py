"""A check suite: a named, ordered list of checks, to and from dicts and YAML."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopline.data.checks import Check
from loopline.errors import InvalidArgumentError

__all__ = ["CheckSuite"]


@dataclass(frozen=True, slots=True)
class CheckSuite:
    """A named, ordered list of checks; findings point back at a check by its position."""

    name: str
    checks: tuple[Check, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidArgumentError(f"A suite needs a non-empty name. Got {self.name!r}.")
        if isinstance(self.checks, str | Mapping) or not isinstance(self.checks, Iterable):
            raise InvalidArgumentError(f"A suite's checks must be a list. Got {self.checks!r}.")
        checks = tuple(self.checks)
        for i, check in enumerate(checks):
            if not isinstance(check, Check):
                raise InvalidArgumentError(f"checks[{i}] is not a Check. Got {check!r} instead.")
        object.__setattr__(self, "checks", checks)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "checks": [check.to_dict() for check in self.checks]}

    @classmethod
    def from_dict(cls, data: Any) -> CheckSuite:
        """Build a suite; an error names the check (``checks[3]``) and the field at fault."""
        if not isinstance(data, Mapping):
            raise InvalidArgumentError(f"A check suite must be a mapping. Got {data!r} instead.")
        if set(data) - {"name", "checks"}:
            extra = sorted(set(data) - {"name", "checks"})[0]
            raise InvalidArgumentError(f"Unknown suite field '{extra}'.", field=extra)
        if not isinstance(data.get("name"), str) or not data["name"]:
            got = data.get("name")
            raise InvalidArgumentError(
                f"The suite's 'name' must be a non-empty string. Got {got!r} instead.", field="name"
            )
        raw = data.get("checks") or []
        if not isinstance(raw, list):
            raise InvalidArgumentError(f"'checks' must be a list. Got {raw!r} instead.")
        checks = []
        for i, item in enumerate(raw):
            try:
                checks.append(Check.from_dict(item))
            except InvalidArgumentError as exc:
                field_name = exc.details.get("field")
                where = f"checks[{i}]" + (f".{field_name}" if field_name else "")
                raise InvalidArgumentError(
                    f"{where}: {exc.message}", index=i, field=field_name
                ) from None
        return cls(name=str(data["name"]), checks=tuple(checks))

    def to_yaml(self) -> str:
        import yaml

        data = self.to_dict()
        text = str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        if yaml.safe_load(text) != data:  # PyYAML writes NEL and a few others raw, losing them
            text = str(yaml.safe_dump(data, sort_keys=False, allow_unicode=False))
        return text

    @classmethod
    def from_yaml(cls, source: str | os.PathLike[str]) -> CheckSuite:
        """Load YAML text, or a file: a path object, or a one-line string ending .yaml/.yml."""
        import yaml

        text = source
        if isinstance(source, os.PathLike) or (
            "\n" not in source and source.endswith((".yaml", ".yml"))
        ):
            try:
                text = Path(source).read_text(encoding="utf-8")
            except OSError as exc:
                raise InvalidArgumentError(f"Cannot read the suite file {source}: {exc}") from None
        try:
            data = yaml.safe_load(str(text))
        except yaml.YAMLError as exc:
            raise InvalidArgumentError(f"The suite is not valid YAML: {exc}") from None
        return cls.from_dict(data)
