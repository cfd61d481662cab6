"""Predictions and outcomes: an append-only, columnar event log."""
