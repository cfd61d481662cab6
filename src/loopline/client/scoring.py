"""``loopline.score`` and ``loopline.rescore``: bulk scoring from the SDK.

Both run in this process (or on a Dask cluster) against the fluent client's store: the model is
loaded through the governed release, the policy is the one given or the deployment's, and rows
are logged to the event log under ``LOOPLINE_EVENTLOG_ROOT`` (default: ``eventlog/`` beside a
local store). Against a server (``LOOPLINE_URI=http://...``) models and deployments come from
the server; logging then needs ``LOOPLINE_EVENTLOG_ROOT`` set explicitly (the server's event log
folder, shared), or ``log=False``.

Examples:
    >>> import tempfile, loopline, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> loopline.set_uri(tempfile.mkdtemp())
    >>> X = pd.DataFrame({"age": [20.0, 30.0, 40.0, 50.0], "visits": [1, 5, 2, 8]})
    >>> with loopline.start_run() as run:
    ...     _ = loopline.log_model(LogisticRegression().fit(X, [0, 0, 1, 1]), "model",
    ...                            input_example=X, registered_model_name="churn")
    >>> policy = {"thresholds": {"bands": [{"min": 0.5, "action": "call"}], "default": "wait"}}
    >>> scored = loopline.score("models:/churn/1", X, policy=policy, progress=False)
    >>> scored["action"].tolist()
    ['wait', 'wait', 'call', 'call']
    >>> loopline.read_predictions("batch:churn").num_rows
    4
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopline.errors import InvalidArgumentError

if TYPE_CHECKING:
    from loopline.client.client import Client
    from loopline.scoring import Services

__all__ = ["rescore", "score", "services_for"]


def services_for(client: Client, *, log: bool) -> Services:
    """The services bulk scoring uses, from a client (local store or server)."""
    from loopline.scoring import Services

    if client.is_remote and client.settings.eventlog_root is None and log:
        raise InvalidArgumentError(
            "Bulk scoring against a server logs to an event log folder this process can "
            "write: set LOOPLINE_EVENTLOG_ROOT (the server's, shared), or pass log=False.",
            field="log",
        )
    root = client.settings.resolved_eventlog_root()
    return Services(client.registry, client.release, client.deployments, root)


def _services(log: bool) -> Services:
    from loopline.client.fluent import flush, get_client

    flush()  # a model logged just before is registered before it is looked up
    return services_for(get_client(), log=log)


def _dask(address: str | None) -> str | None:
    if address is not None:
        return address
    from loopline.client.fluent import get_client

    return get_client().settings.dask_address


def score(
    model_uri: str | None,
    input: Any,
    output: Any = None,
    *,
    policy: Any = None,
    deployment: str | None = None,
    chunk_size: int = 100_000,
    log: bool = True,
    dask_address: str | None = None,
    progress: bool = True,
    key_column: str | None = None,
    keep_columns: Any = None,
    overwrite: bool = False,
    workers: int | None = None,
    trusted: Any = False,
    as_: str | None = None,
) -> Any:
    """Score ``input`` with a registered model, in chunks; decide; log; write ``output``.

    Args:
        model_uri: ``models:/name@alias``, ``models:/name/3`` or ``models:/name/latest``
            (resolved once: the whole run uses one version); None with ``deployment`` takes the
            deployment's model.
        input: a Parquet file or folder, a ``.csv`` file, ``"sql://<url>?table=<name>"`` (or
            ``?query=<SELECT ...>``), a ``(url, table_or_query)`` pair, a pandas or polars
            DataFrame, or an Arrow table.
        output: None (return the scored table), a ``.parquet`` file, a folder (one part per
            chunk) or ``"sql://<url>?table=<name>"``.
        policy: a DecisionPolicy, a dict, or a YAML/JSON file; default: the deployment's.
        deployment: logged under this deployment's name (else ``batch:<model name>``), with its
            model and policy unless given.
        chunk_size: rows per chunk.
        log: log every row to the event log (variant ``batch``).
        dask_address: a Dask scheduler address (default ``LOOPLINE_DASK_ADDRESS``): chunks run
            on the cluster.
        progress: a progress bar on stderr.
        key_column: an input column copied to the output and logged as each row's
            ``request_key`` (it keeps a control group sticky).
        keep_columns: input columns copied to the output (``"all"`` for every one).
        overwrite: replace an existing output.
        workers: local scoring threads (default: up to 4, one per CPU).
        trusted: load a pickled model that is not approved (see docs/release.md).
        as_: ``"arrow"`` or ``"pandas"`` for the returned table (default: pandas for a pandas
            input, else Arrow).

    Returns:
        The scored table (output None), else a :class:`~loopline.scoring.ScoreSummary`.
    """
    from loopline.scoring import score as run

    return run(
        _services(log), model_uri, input, output, policy=policy, deployment=deployment,
        chunk_size=chunk_size, log=log, dask_address=_dask(dask_address), progress=progress,
        key_column=key_column, keep_columns=keep_columns, overwrite=overwrite, workers=workers,
        trusted=trusted, as_=as_,
    )  # fmt: skip


def rescore(
    deployment_or_model_uri: str,
    *,
    since: Any = None,
    until: Any = None,
    policy: Any = None,
    chunk_size: int = 100_000,
    log: bool = True,
    dask_address: str | None = None,
    progress: bool = True,
    workers: int | None = None,
    trusted: Any = False,
) -> Any:
    """Rescore the predictions without an outcome yet, with the current model; old vs new.

    A deployment name takes its open predictions, its model URI (an alias follows its move)
    and its policy; a ``models:/`` URI takes the open predictions of that model in every
    deployment. New predictions are logged linked to the old ones (``outputs.rescored_from``);
    the returned Arrow table has per row the old ``prediction_id``, the ``new_prediction_id``,
    old and new model version, score, action and rule, and ``changed``. ``since``/``until``
    bound the window (epoch ms, datetimes, dates or ISO strings).
    """
    from loopline.scoring import rescore as run

    return run(
        _services(log), deployment_or_model_uri, since=since, until=until, policy=policy,
        chunk_size=chunk_size, log=log, dask_address=_dask(dask_address), progress=progress,
        workers=workers, trusted=trusted,
    )  # fmt: skip
