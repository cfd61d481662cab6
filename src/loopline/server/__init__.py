"""The REST server: thin FastAPI routes over the services, one JSON error envelope."""
