"""Users, roles and API tokens: who may call the server, and as whom."""

from loopline.auth.service import AuthService, check_permission, hash_token
from loopline.entities.auth import ApiToken, Role, User

__all__ = ["ApiToken", "AuthService", "Role", "User", "check_permission", "hash_token"]
