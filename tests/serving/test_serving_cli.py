"""``loopline serve``: a subprocess serving a registered model, stopped with Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from serving_support import Models, row

LOOPLINE = [sys.executable, "-c", "from loopline.cli.main import main; main()"]


@pytest.mark.slow
def test_serve_prints_the_url_answers_and_stops_on_ctrl_c(models: Models) -> None:
    store = models.client.settings.uri
    process = subprocess.Popen(
        [*LOOPLINE, "serve", "models:/gbc@prod", "--port", "0",
         "--uri", str(store)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        second = process.stdout.readline()
        found = re.search(r"on (http://127\.0\.0\.1:\d+)", first)
        assert found, first
        url = found.group(1)
        deadline = time.monotonic() + 15
        while True:
            try:
                body = {"rows": [row(models.X)]}
                answer = httpx.post(f"{url}/deployments/gbc/predict", json=body)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert "serving 'gbc' on" in first
    assert "gbc: models:/gbc/1" in second
    assert answer.status_code == 200
    assert answer.json()["model_version"] == 1
    assert process.returncode == 0, err
    assert "stopped" in out


def test_serve_without_a_model_uri_nor_deployments_says_so(tmp_path: Path) -> None:
    result = subprocess.run(
        [*LOOPLINE, "serve", "--uri", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 1
    assert "The store has no deployments" in result.stderr
