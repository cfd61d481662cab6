"""Deployments: which model a server serves under a name, with its policy, logging and challenger.

:class:`DeploymentService` is the entry point (``docs/deployments.md``); the SDK namespace is
``loopline.deployments``.
"""

from loopline.deploy.service import DEFAULT_MAX_RESULTS, UNCHANGED, DeploymentService

__all__ = ["DEFAULT_MAX_RESULTS", "UNCHANGED", "DeploymentService"]
