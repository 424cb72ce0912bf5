"""Model registry: every family behind one interface, ``predict(inputs) -> DataFrame``.

A new model is one file in this package plus one line in ``_REGISTRY``; the app, the CLI,
evaluation and screening find it through :func:`available` and :func:`load`.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module

from sc_core import checkpoints
from sc_core.models.base import PREDICTION_COLUMNS, Model

# name → "module:class"; the class has ``load(name) -> Model``.
_REGISTRY = {
    "baseline": "sc_core.models.baseline:MagpieForest",
    "konno_cnn": "sc_core.models.composition_nets:KonnoCNN",
    "kaplan_fcnn": "sc_core.models.composition_nets:KaplanFCNN",
    "kaplan_cnn": "sc_core.models.composition_nets:KaplanCNN",
    "crystal_graph": "sc_core.models.crystal_graph:CrystalGraphNet",
    "s2snet": "sc_core.models.s2snet:S2SNet",
}

__all__ = ["PREDICTION_COLUMNS", "Model", "available", "load", "model_class"]


def model_class(name: str) -> type[Model]:
    """The class registered under `name`."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; choose one of {sorted(_REGISTRY)}")
    module, cls = _REGISTRY[name].split(":")
    return getattr(import_module(module), cls)


def available() -> list[str]:
    """Registered models that have a committed checkpoint."""
    return [name for name in _REGISTRY if checkpoints.exists(name)]


@lru_cache(maxsize=None)
def load(name: str) -> Model:
    """A trained model by name (cached: one instance per process)."""
    return model_class(name).load(name)
