"""Model registry: every family behind one protocol (:class:`~sc_core.models.base.Model`).

A new model is one file in this package plus one line in ``REGISTRY``; the app, the CLI, training,
evaluation and screening find it through :func:`registered`, :func:`available` and :func:`load`.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from sc_core import checkpoints
from sc_core.models.base import PREDICTION_COLUMNS, Model

# name → "module:class"; the class implements the Model protocol
REGISTRY = {
    "baseline": "sc_core.models.baseline:MagpieForest",
    "boosted": "sc_core.models.boosted:BoostedTrees",
    "konno_cnn": "sc_core.models.composition_nets:KonnoCNN",
    "kaplan_fcnn": "sc_core.models.composition_nets:KaplanFCNN",
    "kaplan_cnn": "sc_core.models.composition_nets:KaplanCNN",
    "element_attention": "sc_core.models.element_attention:ElementAttention",
    "crystal_graph": "sc_core.models.crystal_graph:CrystalGraphNet",
    "s2snet": "sc_core.models.s2snet:S2SNet",
    "chgnet": "sc_core.models.chgnet_heads:ChgnetHeads",
}

__all__ = ["PREDICTION_COLUMNS", "REGISTRY", "Model", "available", "load", "model_class", "registered", "version"]


def model_class(name: str) -> type[Model]:
    """The class registered under `name`."""
    if name not in REGISTRY:
        raise KeyError(f"unknown model {name!r}; choose one of {sorted(REGISTRY)}")
    module, cls = REGISTRY[name].split(":")
    return getattr(import_module(module), cls)


def registered() -> list[str]:
    """Every registered model name, trained or not."""
    return list(REGISTRY)


def available(kind: str | None = None) -> list[str]:
    """Registered models that have a committed checkpoint; with `kind`, only those of that kind
    ("composition" or "structure"), told from the class without loading any weights."""
    return [name for name in REGISTRY if checkpoints.exists(name) and (kind is None or model_class(name).kind == kind)]


@cache
def load(name: str) -> Model:
    """A trained model by name (cached: one instance per process)."""
    return model_class(name).load(name)


def version(name: str) -> str:
    """The version of trained model `name` as its ``load`` sets it (the card's, else its date), without loading it."""
    card = checkpoints.read_card(name)
    return card.get("version", card["created"])
