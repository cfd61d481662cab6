"""Metadata storage: the only package that sees database rows."""

from loopline.store.tracking import SqlTrackingStore

__all__ = ["SqlTrackingStore"]
