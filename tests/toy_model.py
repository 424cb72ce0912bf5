"""A toy model family written the way a new model is added: this one file plus a registry line.

Per-element log-odds of being a superconductor and per-element mean Tc, weighted by atomic fraction.
Tests register it (``models.REGISTRY["toy"] = "toy_model:ToyModel"``) to check that the CLI, training,
evaluation and the pages pick a new model up without edits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Structure

from sc_core import checkpoints, data
from sc_core.featurize.composition import VECTOR_LENGTH, CompositionBatch, fraction_vector
from sc_core.models.base import Config, FeatureModel


@dataclass(frozen=True)
class ToyConfig(Config):
    smoothing: float = 1.0  # pseudo-count added to each element's superconductor and non-superconductor counts


class ToyModel(FeatureModel):
    name = "toy"
    kind = "composition"
    config_class = ToyConfig
    config: ToyConfig
    features = "atomic fractions"
    datasets = ("supercon",)

    def featurize_batch(self, batch: CompositionBatch, structures: list[Structure] | None = None) -> np.ndarray:
        return fraction_vector(batch)

    def fit(self, inputs, tc=None, labels=None, progress=False) -> ToyModel:
        X = self.featurize(inputs)
        y = np.asarray(labels if labels is not None else np.asarray(tc) > 0, dtype=bool)
        a = self.config.smoothing
        self.log_odds = np.log((X[y].sum(0) + a) / (X[~y].sum(0) + a))
        tc = np.zeros(len(X)) if tc is None else np.asarray(tc, dtype=float)
        self.tc = (X[y] * tc[y, None]).sum(0) / np.maximum(X[y].sum(0), 1e-9)
        return self

    def predict_features(self, X: np.ndarray) -> pd.DataFrame:
        p = 1 / (1 + np.exp(-(X @ self.log_odds)))
        return pd.DataFrame({"p_sc": p, "p_sc_std": 0.0, "tc_K": X @ self.tc, "tc_std_K": 0.0})

    def save(self, card: dict, name: str | None = None) -> None:
        checkpoints.save(name or self.name, {"log_odds": self.log_odds, "tc": self.tc},
                         {**card, "params": self.params, "model": self.name})

    @classmethod
    def load(cls, name: str | None = None) -> ToyModel:
        arrays, card = checkpoints.load(name or cls.name, shapes={"log_odds": (VECTOR_LENGTH,),
                                                                   "tc": (VECTOR_LENGTH,)})
        model = cls(**card["params"])
        model.log_odds, model.tc = arrays["log_odds"], arrays["tc"]
        model.card, model.version = card, card["version"]
        return model

    @classmethod
    def train_deployed(cls, seed: int = 0, progress: bool = False) -> tuple[ToyModel, dict]:
        table = data.load_supercon().sample(n=500, random_state=seed)
        comps = [Composition(f) for f in table["formula"]]
        return cls(random_state=seed).fit(comps, tc=table["tc"].to_numpy()), {"supercon_rows": 500, "seed": seed}
