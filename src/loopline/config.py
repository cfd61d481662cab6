"""Settings: the one place loopline reads its ``LOOPLINE_*`` environment variables.

Entry points (the SDK's first call, the CLI, the server) build a :class:`Settings` once and pass it
down; no other module reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "is_remote_uri"]


def is_remote_uri(uri: str | None) -> bool:
    """True when ``uri`` names a loopline server rather than a local store."""
    return bool(uri) and str(uri).startswith(("http://", "https://"))


class Settings(BaseSettings):
    """All of loopline's settings, read from ``LOOPLINE_*`` environment variables.

    Examples:
        >>> Settings(home="/tmp/ll").resolved_database_url()
        'sqlite:////tmp/ll/loopline.db'
    """

    model_config = SettingsConfigDict(env_prefix="LOOPLINE_", extra="ignore")

    uri: str | None = Field(
        default=None,
        description=(
            "Where the SDK sends its calls: http(s)://host:port for a loopline server; a database "
            "URL or a folder for a local store. Unset: the embedded store under `home`."
        ),
    )
    home: Path = Field(
        default=Path(".loopline"),
        description="Folder of the embedded default: loopline.db and artifacts/ live here.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata store (sqlite:///... or postgresql://...).",
    )
    artifact_root: str | None = Field(
        default=None,
        description="Root of the artifact store: a local folder or an s3://bucket/prefix URL.",
    )
    eventlog_root: Path | None = Field(
        default=None,
        description=(
            "Folder of the prediction and outcome log (journals and Parquet segments); unset: "
            "`eventlog/` beside a local store folder, else under `home`."
        ),
    )
    token: SecretStr | None = Field(
        default=None,
        description=(
            "API token the SDK and the CLI send to a loopline server (`ll_<id>_<secret>`, from "
            "`loopline tokens create`)."
        ),
    )
    auth: bool = Field(
        default=False,
        description=(
            "The server requires an API token with a role on every /api call but health "
            "(`loopline server --auth`)."
        ),
    )
    capture_environment: bool = Field(
        default=True,
        description="Record the git commit, the Python version and installed packages on new runs.",
    )
    metric_flush_interval: float = Field(
        default=1.0,
        gt=0,
        description="Seconds between background flushes of buffered metrics in the fluent SDK.",
    )
    metric_buffer_size: int = Field(
        default=20_000,
        gt=0,
        description="Buffered metric values that trigger a flush in the fluent SDK.",
    )
    http_timeout: float = Field(
        default=30.0, gt=0, description="Seconds the SDK waits for a loopline server to answer."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of an S3-compatible store (MinIO, moto, Ceph...)."
    )

    alert_log: bool = Field(
        default=True, description="Write every alert to the `loopline.alerts` logger."
    )
    alert_webhook_url: str | None = Field(
        default=None, description="POST every alert as JSON to this URL."
    )
    alert_webhook_headers: dict[str, str] = Field(
        default_factory=dict,
        description='Extra webhook headers, as JSON: {"Authorization": "Bearer ..."}.',
    )
    alert_webhook_timeout: float = Field(
        default=10.0, gt=0, description="Seconds per webhook attempt."
    )
    alert_webhook_retries: int = Field(
        default=2, ge=0, description="Webhook retries after a failed attempt (exponential backoff)."
    )
    alert_smtp_host: str | None = Field(
        default=None, description="SMTP server for alert email; unset: no email."
    )
    alert_smtp_port: int = Field(default=25, description="SMTP port.")
    alert_smtp_from: str | None = Field(default=None, description="Sender address of alert email.")
    alert_smtp_to: str | None = Field(
        default=None, description="Comma-separated recipients of alert email."
    )
    alert_smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS."
    )
    alert_smtp_username: str | None = Field(default=None, description="SMTP login user.")
    alert_smtp_password: SecretStr | None = Field(default=None, description="SMTP login password.")
    alert_smtp_timeout: float = Field(default=10.0, gt=0, description="Seconds per SMTP attempt.")
    alert_dedup_window: float = Field(
        default=3600.0,
        ge=0,
        description="Seconds within which an alert with the same dedup key is not re-sent.",
    )

    openlineage_transport: Literal["file", "http", "none"] = Field(
        default="file",
        description=(
            "Where OpenLineage run events go: `file` (JSON lines), `http` (an OpenLineage "
            "endpoint such as Marquez) or `none`."
        ),
    )
    openlineage_path: Path | None = Field(
        default=None,
        description=(
            "File the `file` transport appends to; unset: `openlineage.jsonl` beside a SQLite "
            "store, else under `home`."
        ),
    )
    openlineage_url: str | None = Field(
        default=None,
        description="Base URL of the `http` transport; events go to `<url>/api/v1/lineage`.",
    )
    openlineage_api_key: SecretStr | None = Field(
        default=None, description="Bearer token the `http` transport sends."
    )
    openlineage_timeout: float = Field(
        default=2.0, gt=0, description="Seconds the `http` transport waits per event."
    )
    openlineage_retries: int = Field(
        default=3,
        ge=0,
        description=(
            "Retries of an `http` event after a retryable failure (connection error, timeout, "
            "408, 429, 502, 503, 504), with exponential backoff and jitter; 0: one attempt."
        ),
    )
    openlineage_retry_backoff: float = Field(
        default=0.25,
        ge=0,
        description="Seconds before the first retry of an `http` event; each next wait doubles.",
    )
    openlineage_retry_budget: float = Field(
        default=2.0,
        gt=0,
        description=(
            "Most seconds one `http` emission spends, attempts and waits included; what is "
            "still undelivered then goes to the outbox."
        ),
    )
    openlineage_outbox_path: Path | None = Field(
        default=None,
        description=(
            "JSON-lines outbox of `http` events not delivered yet (re-sent in order); unset: "
            "`openlineage-outbox.jsonl` beside the `file` transport's default file."
        ),
    )
    openlineage_namespace: str = Field(
        default="loopline",
        min_length=1,
        description="Namespace of the jobs and datasets in OpenLineage events.",
    )

    serve_poll_interval: float = Field(
        default=1.0,
        ge=0,
        description=(
            "Seconds between re-resolutions of a served alias (hot swap: a new version is loaded "
            "off the request path and swapped in); 0 turns following off."
        ),
    )
    serve_max_batch_size: int = Field(
        default=64, ge=1, description="Most rows the inference server scores in one call."
    )
    serve_max_batch_wait: float = Field(
        default=0.001,
        ge=0,
        description=(
            "Seconds a micro-batch waits for more concurrent requests (only under load; a lone "
            "request never waits)."
        ),
    )

    dask_address: str | None = Field(
        default=None,
        description=(
            "Dask scheduler address (tcp://host:8786) that bulk scoring (`loopline score`, "
            "`loopline.score`) runs its chunks on; unset: local threads."
        ),
    )

    def resolved_database_url(self) -> str:
        """The metadata store URL: explicit, from a local ``uri``, or the embedded SQLite file.

        Local paths are made absolute here, once, so a later change of working directory does
        not move the store.
        """
        if self.database_url:
            return self.database_url
        if self.uri and not is_remote_uri(self.uri):
            if "://" in self.uri:
                return self.uri
            return f"sqlite:///{Path(self.uri).absolute() / 'loopline.db'}"
        return f"sqlite:///{self.home.absolute() / 'loopline.db'}"

    def resolved_artifact_root(self) -> str:
        """The artifact root: explicit, beside a local store folder, or under ``home``."""
        if self.artifact_root:
            return self.artifact_root
        if self.uri and not is_remote_uri(self.uri) and "://" not in self.uri:
            return str(Path(self.uri).absolute() / "artifacts")
        url = self.resolved_database_url()
        if url.startswith("sqlite:///") and not self.database_url:
            return str(Path(url.removeprefix("sqlite:///")).parent / "artifacts")
        return str(self.home.absolute() / "artifacts")

    def resolved_eventlog_root(self) -> Path:
        """The event log folder: explicit, beside a local store folder, or under ``home``.

        Examples:
            >>> str(Settings(home="/tmp/ll").resolved_eventlog_root())
            '/tmp/ll/eventlog'
        """
        if self.eventlog_root is not None:
            return self.eventlog_root.absolute()
        if self.uri and not is_remote_uri(self.uri) and "://" not in self.uri:
            return Path(self.uri).absolute() / "eventlog"
        return self.home.absolute() / "eventlog"
