"""OpenLineage run events (START, COMPLETE, FAIL) through the file or HTTP transport."""
