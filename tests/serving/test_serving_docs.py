"""docs/serving.md documents every route of the serving app and every serving setting."""

from __future__ import annotations

from pathlib import Path

from loopline.config import Settings
from loopline.serving.openapi import document

DOCS = Path(__file__).parents[2] / "docs" / "serving.md"


def test_every_route_and_setting_is_documented() -> None:
    text = DOCS.read_text().replace("[/versions/{v}]", "")  # the optional version segment
    for path in document()["paths"]:
        if "/versions/" in path:
            continue  # documented as /v2/models/{name}[/versions/{v}]...
        assert f"`{path}" in text or f"{path}`" in text or f" {path}" in text, path
    for name in Settings.model_fields:
        if name.startswith("serve_"):
            assert f"`LOOPLINE_{name.upper()}`" in text, name
