"""The scikit-learn flavor: estimators and pipelines saved with skops, never with pickle.

skops rebuilds objects from a description instead of running pickle's code, and reports the types
it does not trust by default. loopline adds :data:`TRUSTED_TYPES` (scikit-learn's own Cython data
holders, such as the trees inside forests and gradient boosting) and refuses anything else,
naming it, unless the caller trusts it explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopline.errors import InvalidStateError
from loopline.modeling.flavors.base import (
    Flavor,
    LoadedModel,
    Trust,
    comes_from,
    distribution_version,
    trusted_names,
)

__all__ = ["TRUSTED_TYPES", "SklearnFlavor"]

TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neighbors._ball_tree.BallTree",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.metrics._dist_metrics.ManhattanDistance64",
        "sklearn.metrics._dist_metrics.ChebyshevDistance64",
        "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    }
)
"""Types loopline trusts in skops files beyond skops' own defaults: data holders, no code."""

_FILE = "model.skops"


class SklearnFlavor(Flavor):
    """scikit-learn estimators and pipelines, in skops files."""

    name = "sklearn"
    extra = "sklearn"

    def can_save(self, model: Any) -> bool:
        return comes_from(model, "sklearn") and callable(getattr(model, "predict", None))

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        if not self.can_save(model):
            raise self._refuse(model, "it is not a scikit-learn estimator with a predict method.")
        sklearn = self._import("sklearn")
        skops_io = self._import("skops.io")
        folder.mkdir(parents=True, exist_ok=True)
        skops_io.dump(model, folder / _FILE)
        versions = {"scikit-learn": sklearn.__version__, "skops": distribution_version("skops")}
        return self._meta(model, files=[_FILE], versions=versions)

    def load(self, folder: Path, meta: Mapping[str, Any], *, trusted: Trust = False) -> LoadedModel:
        skops_io = self._import("skops.io")
        path = self._file(folder, meta)
        if trusted is True:
            model = skops_io.load(path, trusted=list(skops_io.get_untrusted_types(file=path)))
        else:
            # One pass: skops audits the file against what is allowed while loading it (asking
            # get_untrusted_types first walked the whole file twice); the names of what it
            # refused are looked up only when it refuses.
            allowed = TRUSTED_TYPES | trusted_names(trusted)
            try:
                model = skops_io.load(path, trusted=sorted(allowed))
            except skops_io.exceptions.UntrustedTypesFoundException:
                needed = skops_io.get_untrusted_types(file=path)
                refused = sorted(name for name in needed if name not in allowed)
                raise InvalidStateError(
                    f"Refusing to load {path.name}: it holds types loopline does not trust: "
                    f"{', '.join(refused)}. Loading them may run their code. If you know where "
                    "this file comes from, pass trusted=[...] with these names "
                    "(or trusted=True).",
                    flavor=self.name,
                    untrusted_types=refused,
                ) from None
        # Always, trusted=True included: trust widens the types, never skips the bounds checks.
        from loopline.modeling.flavors.tree_checks import check_trees  # NumPy: loading only

        check_trees(model, source=path.name)
        proba = model.predict_proba if hasattr(model, "predict_proba") else None
        return LoadedModel(
            model, flavor=self.name, meta=meta, predict=model.predict, predict_proba=proba
        )
