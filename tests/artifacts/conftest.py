"""Artifact stores to test: a local folder and a real S3-protocol server (moto) on 127.0.0.1."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loopline.artifacts import ArtifactStore

BUCKET = "loopline-test"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server in a thread, with dummy credentials and one bucket."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per request
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION"):
            env.delenv(name, raising=False)  # a us-east-1 region breaks bucket creation
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        try:
            s3_filesystem(endpoint).mkdir(BUCKET)
            yield endpoint
        finally:
            server.stop()


def s3_filesystem(endpoint: str) -> Any:
    import s3fs

    return s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})


@pytest.fixture
def s3_root(s3_endpoint: str) -> str:
    """A fresh prefix in the bucket for this test."""
    return f"s3://{BUCKET}/{secrets.token_hex(6)}"


@pytest.fixture(params=["local", "s3"])
def artifact_store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    """An empty blob store: a local folder, or a prefix on the S3 server."""
    if request.param == "local":
        return ArtifactStore(str(tmp_path / "blobs-root"))
    endpoint = request.getfixturevalue("s3_endpoint")
    return ArtifactStore(
        request.getfixturevalue("s3_root"),
        storage_options={"client_kwargs": {"endpoint_url": endpoint}},
    )


def _stored_files(store: ArtifactStore) -> list[str]:
    root = store.root.split("://", 1)[-1].rstrip("/")
    if store.is_local:
        base = Path(root)
        if not base.exists():
            return []
        return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
    store.fs.invalidate_cache()
    return sorted(p[len(root) + 1 :] for p in store.fs.find(root))


@pytest.fixture
def stored_files() -> Any:
    """``stored_files(store)``: every object under the store's root, relative to it, sorted."""
    return _stored_files
