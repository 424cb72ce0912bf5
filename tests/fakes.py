"""The toy family of tests/toy_model.py as the only trained models, so that pages, evaluation protocols and
screening run end to end on models that fit in milliseconds instead of training or loading real ones.

:class:`ToyStructureModel` is the same family read from crystal structures (their compositions), for the
structure protocols (S2S, 3DSC) and the structure code paths of the pages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from toy_model import ToyModel

from sc_core import checkpoints, data, models


class ToyStructureModel(ToyModel):
    """The toy family for structure inputs only."""

    name = "toy_structure"
    kind = "structure"
    datasets = ("s2s", "3dsc")


TOYS = (ToyModel, ToyStructureModel)


def install_toys(monkeypatch: pytest.MonkeyPatch, root: Path) -> list[str]:
    """Register the toys, make `root` the checkpoint folder (the toys become the only trained models) and save
    each toy there, trained by its deployed recipe. Returns their names."""
    root.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", root)
    for cls in TOYS:
        monkeypatch.setitem(models.REGISTRY, cls.name, f"{cls.__module__}:{cls.__name__}")
        model, described = cls.train_deployed()
        model.save({"version": f"{cls.name}-1", "data_hash": data.manifest()["data_hash"], "training_data": described})
    models.load.cache_clear()  # a model of this name loaded before came from another folder
    return [cls.name for cls in TOYS]


@pytest.fixture
def toy_models(monkeypatch, tmp_path) -> list[str]:
    """The toys as the only registered-and-trained models for one test (see :func:`install_toys`)."""
    yield install_toys(monkeypatch, tmp_path / "checkpoints")
    models.load.cache_clear()


@pytest.fixture
def empty_chgnet_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """CHGNet features are computed afresh and never read from, or written to, the user's cache."""
    from sc_core.featurize import chgnet

    monkeypatch.setattr(chgnet, "CACHE_DIR", tmp_path / "cache")
    chgnet._stored.cache_clear()
    yield
    chgnet._stored.cache_clear()
