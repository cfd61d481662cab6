"""Flavors: how each kind of model is saved to a folder and loaded back, safely.

>>> from loopline.modeling.flavors import list_flavors
>>> list_flavors()[:5]
['xgboost', 'lightgbm', 'onnx', 'sklearn', 'pyfunc']
"""

from loopline.modeling.flavors.base import Flavor, LoadedModel, Trust
from loopline.modeling.flavors.registry import (
    ENTRY_POINT_GROUP,
    FlavorRegistry,
    flavor_for,
    get_flavor,
    list_flavors,
    load_model,
    register_flavor,
    save_model,
)
from loopline.modeling.flavors.sklearn import TRUSTED_TYPES

__all__ = [
    "ENTRY_POINT_GROUP",
    "TRUSTED_TYPES",
    "Flavor",
    "FlavorRegistry",
    "LoadedModel",
    "Trust",
    "flavor_for",
    "get_flavor",
    "list_flavors",
    "load_model",
    "register_flavor",
    "save_model",
]
