"""Search of the registry: registered models and versions matching a filter, one page at a time.

A filter is the tracking filter language (``name LIKE 'churn%' AND tags.team = 'risk'``),
parsed against the attributes :mod:`loopline.store.model_search` allows and run by the store as
one query; pages are an offset behind an opaque token.

Examples:
    >>> import tempfile
    >>> from loopline.store import SqlTrackingStore
    >>> store = SqlTrackingStore(f"sqlite:///{tempfile.mkdtemp()}/s.db")
    >>> search_registered_models(store, "name LIKE 'churn%'")
    Page([], next_token=None)
    >>> search_model_versions(store, "status = 'approved'", max_results=10)
    Page([], next_token=None)
"""

from __future__ import annotations

from loopline.entities import ModelVersion, Page, RegisteredModel
from loopline.filters import parse_filter
from loopline.store import SqlTrackingStore
from loopline.store.model_search import MODEL_FILTERS, VERSION_FILTERS
from loopline.tracking.paging import check_max_results, decode_token, encode_token

__all__ = ["DEFAULT_MAX_RESULTS", "search_model_versions", "search_registered_models"]

DEFAULT_MAX_RESULTS = 100
"""The page size of registry listings and searches when ``max_results`` is not given."""


def search_registered_models(
    store: SqlTrackingStore,
    filter: str | None = None,
    *,
    max_results: int | None = None,
    page_token: str | None = None,
) -> Page[RegisteredModel]:
    """Models matching ``filter``, by name.

    Attributes: ``name``, ``description``, ``created_at``, ``updated_at``; tags as
    ``tags.<key>``.
    """
    limit = check_max_results(max_results, DEFAULT_MAX_RESULTS)
    offset = decode_token(page_token)
    ast = parse_filter(filter, MODEL_FILTERS)
    found, more = store.search_registered_models(ast, offset=offset, limit=limit)
    return Page(found, encode_token(offset + limit) if more else None)


def search_model_versions(
    store: SqlTrackingStore,
    filter: str | None = None,
    *,
    max_results: int | None = None,
    page_token: str | None = None,
) -> Page[ModelVersion]:
    """Versions matching ``filter``, ordered by model name, then version.

    Attributes: ``name`` (the model's), ``version``, ``run_id``, ``artifact_path``,
    ``flavor``, ``digest``, ``status``, ``created_by``, ``created_at``, ``description``; tags
    as ``tags.<key>``.
    """
    limit = check_max_results(max_results, DEFAULT_MAX_RESULTS)
    offset = decode_token(page_token)
    ast = parse_filter(filter, VERSION_FILTERS)
    found, more = store.search_model_versions(ast, offset=offset, limit=limit)
    return Page(found, encode_token(offset + limit) if more else None)
