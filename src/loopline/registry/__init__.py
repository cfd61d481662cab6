"""The model registry: registered models, numbered versions, aliases and ``models:/`` URIs.

Every change to a model, a version or an alias is recorded in the audit log.
"""

from loopline.entities.models import ModelVersion, ModelVersionStatus, RegisteredModel
from loopline.registry.service import RegistryService

__all__ = ["ModelVersion", "ModelVersionStatus", "RegisteredModel", "RegistryService"]
