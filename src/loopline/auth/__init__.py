"""Users, roles and API tokens: who may call the server, and as whom."""
