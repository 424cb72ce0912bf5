"""Tiny deterministic models for tests, registered next to (or instead of) the real ones by monkeypatching.

:class:`ElementShareModel` learns, for each element, the share of superconductors among the training
compositions that contain it (Laplace-smoothed) and their mean Tc; a composition's P(superconductor) and
Tc are the atomic-fraction-weighted means of its elements' values. It fits in milliseconds, so pages,
evaluation protocols and screening can be exercised end to end without training a real model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Structure

from sc_core import checkpoints, data, models
from sc_core.featurize.composition import MAX_Z, to_batch
from sc_core.io import parse_formula
from sc_core.models.base import FeatureModel

P_SC_STD, TC_STD_K = 0.05, 2.0  # the fakes' fixed uncertainties
TOY_TRAINING = {"MgB2": 39.0, "Nb3Sn": 18.0, "YBa2Cu3O7": 92.0, "La1.85Sr0.15CuO4": 38.0, "Ba0.6K0.4Fe2As2": 38.0,
                "NaCl": 0.0, "SiO2": 0.0, "Fe2O3": 0.0, "KCl": 0.0, "Al2O3": 0.0}


class ElementShareModel(FeatureModel):
    """Composition fake: P and Tc are fraction-weighted means of per-element training statistics."""

    name = "fake_composition"
    kind = "composition"
    datasets = ("supercon", "hosono2018", "s2s")

    def __init__(self, random_state: int = 0, **_recipe):
        super().__init__()
        self.random_state = random_state  # the fake is deterministic; the seed is only recorded
        self.share = np.full(MAX_Z + 1, 0.5)  # column = Z; 0.5 for elements never seen
        self.tc = np.zeros(MAX_Z + 1)
        self.card: dict = {}

    def featurize(self, inputs: list) -> np.ndarray:
        """Atomic fractions (n, MAX_Z + 1); structures are read by their composition."""
        return to_batch([x.composition if isinstance(x, Structure) else x for x in inputs]).fraction_matrix()

    def fit(self, inputs: list, tc: np.ndarray | None = None, labels: np.ndarray | None = None,
            progress: bool = False) -> ElementShareModel:
        """Per-element share of superconductors (`labels`, else ``tc > 0``) and mean Tc of those superconductors."""
        present = self.featurize(inputs) > 0
        tc = np.zeros(len(present)) if tc is None else np.asarray(tc, dtype=float)
        positive = np.asarray(labels if labels is not None else tc > 0, dtype=bool)
        seen, sc = present.sum(axis=0), present[positive].sum(axis=0)
        self.share = (sc + 1) / (seen + 2)
        tc_sum = present[positive].T.astype(float) @ tc[positive]
        self.tc = np.where(sc > 0, tc_sum / np.maximum(sc, 1), 0.0)
        return self

    def predict_features(self, X: np.ndarray) -> pd.DataFrame:
        n = len(X)
        return pd.DataFrame({"p_sc": X @ self.share, "p_sc_std": np.full(n, P_SC_STD),
                             "tc_K": X @ self.tc, "tc_std_K": np.full(n, TC_STD_K)})

    def element_vectors(self, stage: str | None = None) -> pd.DataFrame:
        """Share, mean Tc and Z of H … Lr (the pages' embedding maps need some vectors)."""
        z = np.arange(1, MAX_Z + 1)
        symbols = data.load_elements().set_index("Z").loc[z, "symbol"]
        return pd.DataFrame({"share": self.share[1:], "tc_K": self.tc[1:], "z": z / MAX_Z}, index=symbols.tolist())

    def save(self, card: dict, name: str | None = None) -> None:
        checkpoints.save(name or self.name, {"share": self.share, "tc": self.tc},
                         {**card, "params": {"random_state": self.random_state}, "model": self.name})

    @classmethod
    def load(cls, name: str | None = None) -> ElementShareModel:
        arrays, card = checkpoints.load(name or cls.name)
        model = cls(**card["params"])
        model.share, model.tc = arrays["share"], arrays["tc"]
        model.card, model.version = card, card["version"]
        return model

    @classmethod
    def train_deployed(cls, seed: int = 0, progress: bool = False) -> tuple[ElementShareModel, dict]:
        """The fake's deployed recipe: fit on TOY_TRAINING."""
        comps = [parse_formula(f) for f in TOY_TRAINING]
        return cls(random_state=seed).fit(comps, tc=np.array(list(TOY_TRAINING.values()))), {"toy_rows": len(comps)}


class ElementShareStructureModel(ElementShareModel):
    """The same rule for structure inputs only (for the structure protocols and pages)."""

    name = "fake_structure"
    kind = "structure"
    input_column = "structure"
    datasets = ("s2s", "3dsc")


FAKES = (ElementShareModel, ElementShareStructureModel)


def install_fakes(monkeypatch: pytest.MonkeyPatch, root: Path) -> list[str]:
    """Register the fakes, make `root` the checkpoint folder (the fakes become the only trained models) and
    save each fake there, trained by its deployed recipe. Returns their names."""
    root.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", root)
    for cls in FAKES:
        monkeypatch.setitem(models._REGISTRY, cls.name, f"{__name__}:{cls.__name__}")
        model, described = cls.train_deployed()
        model.save({"version": f"{cls.name}-1", "data_hash": data.manifest()["data_hash"], "training": described})
    return [cls.name for cls in FAKES]


@pytest.fixture
def fake_models(monkeypatch, tmp_path) -> list[str]:
    """The fakes as the only registered-and-trained models for one test (see :func:`install_fakes`)."""
    return install_fakes(monkeypatch, tmp_path / "checkpoints")
