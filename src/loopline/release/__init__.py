"""The governed release of model versions: evaluation, gates, approvals, aliases, rollback."""
