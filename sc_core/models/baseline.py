"""Magpie random-forest baseline: a classifier for P(superconductor) and a Tc regressor.

The classifier learns SuperCon (Tc > 0 vs Tc = 0) plus "garbage-in" COD compositions as Tc = 0; the
regressor learns Tc on superconductors only, so ``tc_K`` reads "Tc if it superconducts". The spread
of the trees gives ``p_sc_std`` and ``tc_std_K``. scikit-learn fits the forests; they are stored and
predicted as plain node arrays (:mod:`sc_core.models.trees`: no pickles, no scikit-learn trees at load).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Structure

from sc_core import checkpoints, data
from sc_core.data import element_properties
from sc_core.elements import vectors_table
from sc_core.featurize.composition import CompositionBatch, magpie_features
from sc_core.featurize.structure import global_features
from sc_core.models.base import Config, FeatureModel
from sc_core.models.trees import N_THREADS, ArrayForest, load_forests


@dataclass(frozen=True)
class ForestConfig(Config):
    """The two forests; the regressor looks at a third of the features at each split."""

    n_estimators: int = 100
    min_samples_leaf: int = 1
    regressor_max_features: float = 1 / 3
    use_structure: bool = False  # add global structure descriptors (and then need a structure)


class MagpieForest(FeatureModel):
    """Random forests on Magpie composition features."""

    name = "baseline"
    kind = "composition"
    config_class = ForestConfig
    config: ForestConfig
    classifier: ArrayForest
    features = "Magpie-style composition descriptors (138), sc_core.featurize.composition"
    datasets = ("supercon", "hosono2018", "s2s", "3dsc")
    # on structure benchmarks, global structure descriptors are added to the Magpie features
    protocol_params = {"s2s": {"use_structure": True}, "3dsc": {"use_structure": True}}

    def __init__(self, config: ForestConfig | None = None, **overrides):
        super().__init__(config, **overrides)
        self.regressor: ArrayForest | None = None

    @property
    def input_column(self) -> str:
        return "structure" if self.config.use_structure else "composition"

    @classmethod
    def train_deployed(cls, seed: int = 0, progress: bool = False) -> tuple[MagpieForest, dict]:
        """SuperCon (minus the Hosono 2018 list) plus COD garbage-in."""
        comps, tc, described = data.deployed_training_set(seed)
        return cls(random_state=seed).fit(comps, tc=tc), described

    # -- training -------------------------------------------------------------------------
    def fit(self, inputs: Sequence[Composition | Structure], tc: np.ndarray | None = None,
            labels: np.ndarray | None = None, progress: bool = False) -> MagpieForest:
        """Fit on compositions (or structures, with ``use_structure``) and Tc in K (0 = not a superconductor).

        `labels` overrides ``tc > 0`` as the classification target; without `tc` no regressor is fitted.
        """
        X = self.featurize(inputs)
        y = np.asarray(labels if labels is not None else np.asarray(tc) > 0, dtype=bool)
        self.fit_arrays(X, y, None if tc is None else np.asarray(tc, dtype=float))
        return self

    def fit_arrays(self, X: np.ndarray, y: np.ndarray, tc: np.ndarray | None) -> None:
        """The classifier on features `X` and classes `y`; with `tc`, the regressor on the rows with Tc > 0."""
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # training only

        c = self.config
        common = {"n_estimators": c.n_estimators, "min_samples_leaf": c.min_samples_leaf,
                  "random_state": c.random_state, "n_jobs": N_THREADS}
        self.classifier = ArrayForest.from_sklearn(RandomForestClassifier(**common).fit(X, y))
        if tc is not None:
            self.regressor = ArrayForest.from_sklearn(RandomForestRegressor(
                max_features=c.regressor_max_features, **common).fit(X[tc > 0], tc[tc > 0]))

    def featurize_batch(self, batch: CompositionBatch, structures: list[Structure] | None = None) -> np.ndarray:
        """Magpie features, plus global structure descriptors when ``use_structure`` is set."""
        X = magpie_features(batch)
        if structures is not None:
            X = np.hstack([X, np.stack([global_features(s) for s in structures])])
        return X

    # -- inference -------------------------------------------------------------------------
    def predict_features(self, X: np.ndarray) -> pd.DataFrame:
        """Mean and spread over trees of P(superconductor) and Tc for a feature matrix."""
        p_mean, p_std = self.classifier.moments(X)
        if self.regressor is None:
            t_mean = t_std = np.full(len(X), np.nan)
        else:
            t_mean, t_std = self.regressor.moments(X)
        return pd.DataFrame({"p_sc": p_mean, "p_sc_std": p_std, "tc_K": t_mean, "tc_std_K": t_std})

    def element_vectors(self, stage: str | None = None) -> pd.DataFrame:
        """The Magpie element properties the forests read (Z = 1-103), standardised per property."""
        table = element_properties()[1:]
        return vectors_table((table - table.mean(axis=0)) / table.std(axis=0, ddof=1))

    # -- persistence -------------------------------------------------------------------------
    def save(self, card: dict, name: str | None = None) -> None:
        """Write the forests as arrays plus a card to ``checkpoints/<name>``."""
        arrays = self.classifier.to_arrays("clf")
        if self.regressor is not None:
            arrays |= self.regressor.to_arrays("reg")
        checkpoints.save(name or self.name, arrays, {**card, "params": self.params, "model": self.name})

    @classmethod
    def load(cls, name: str | None = None) -> MagpieForest:
        """Read from a checkpoint after checking its hash; the forests stay node arrays."""
        arrays, card = checkpoints.load(name or cls.name)
        model = cls(**card["params"])
        model.classifier, *regressor = load_forests(arrays, ["clf", "reg"] if "reg_offsets" in arrays else ["clf"])
        model.regressor = regressor[0] if regressor else None
        model.card, model.version = card, card.get("version", card["created"])
        return model
