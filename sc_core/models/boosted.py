"""Boosted and randomised trees: LightGBM and extra trees, mixed, on Magpie features plus the element
fractions and a few stoichiometry descriptors.

Like the baseline, the classifier learns P(superconductor) (SuperCon plus COD garbage-in as Tc = 0 for the
deployed model) and the regressor learns Tc on superconductors only. Each head is a weighted mixture of
`n_members` LightGBM boosters (bagged: each its own seed, row and feature subsample) and one extra-trees
forest (weights chosen on validation: boosters lead the classifier, extra trees the Tc regressor). The
spread is the standard deviation of that mixture: the boosters' spread, the trees' spread and the gap
between the two means. Boosters are stored as LightGBM's text dump, the extra trees as node arrays: no
pickles anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from pymatgen.core import Structure
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

from sc_core import checkpoints
from sc_core.checkpoints import CheckpointError
from sc_core.featurize.composition import CompositionBatch, fraction_vector, magpie_features
from sc_core.featurize.structure import global_features
from sc_core.intervals import mixture
from sc_core.models.base import Config
from sc_core.models.baseline import MagpieForest
from sc_core.models.trees import N_THREADS, ArrayForest, load_forests


@dataclass(frozen=True)
class BoostedConfig(Config):
    """LightGBM boosters and an extra-trees forest per head (settings chosen on validation data only)."""

    n_members: int = 3  # bagged boosters per head
    n_estimators: int = 500
    learning_rate: float = 0.1
    num_leaves: int = 63
    min_child_samples: int = 5
    subsample: float = 0.8  # rows per tree (bagging)
    colsample_bytree: float = 0.3  # features per tree
    reg_lambda: float = 1.0
    extra_trees: int = 100  # trees of the extra-trees forest
    extra_max_features: float = 0.2  # features tried per extra-trees split
    weight_boosted: float = 0.7  # weight of the boosters' mean in the classifier's mixture (the rest: extra trees)
    weight_boosted_tc: float = 0.3  # the same for the Tc regressor (extra trees regress Tc better on validation)
    use_structure: bool = False  # add global structure descriptors (and then need a structure)


def stoichiometry_features(batch: CompositionBatch) -> np.ndarray:
    """(n, 3) mixing entropy −Σ x ln x, largest and smallest atomic fraction."""
    x = batch.x
    present = x > 0
    entropy = -(np.where(present, x * np.log(np.where(present, x, 1.0)), 0.0)).sum(axis=1)
    smallest = np.where(present, x, np.inf).min(axis=1)
    return np.stack([entropy, x.max(axis=1), np.where(np.isfinite(smallest), smallest, 0.0)], axis=1)


class Booster:
    """`n` LightGBM boosters of one head (binary classifier or Tc regressor), kept as text dumps."""

    def __init__(self, boosters: list[lgb.Booster], classifier: bool):
        self.boosters, self.classifier = boosters, classifier

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, config: BoostedConfig, classifier: bool) -> Booster:
        c = config
        params = {"objective": "binary" if classifier else "regression", "learning_rate": c.learning_rate,
                  "num_leaves": c.num_leaves, "min_child_samples": c.min_child_samples,
                  "bagging_fraction": c.subsample, "bagging_freq": 1, "feature_fraction": c.colsample_bytree,
                  "lambda_l2": c.reg_lambda, "num_threads": N_THREADS, "deterministic": True,
                  "force_row_wise": True, "verbosity": -1}
        train = lgb.Dataset(X, label=y.astype(float), free_raw_data=False)
        boosters = [lgb.train({**params, "seed": c.random_state * 1000 + i}, train, num_boost_round=c.n_estimators)
                    for i in range(c.n_members)]
        return cls(boosters, classifier)

    def predictions(self, X: np.ndarray) -> np.ndarray:
        """(n_members, rows) predictions: P(positive) or Tc."""
        return np.stack([np.asarray(b.predict(X, num_threads=N_THREADS)) for b in self.boosters])

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Each booster's text dump as a uint8 array ``{prefix}_booster_{i}``."""
        return {f"{prefix}_booster_{i}": np.frombuffer(b.model_to_string().encode(), dtype=np.uint8)
                for i, b in enumerate(self.boosters)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, n: int, n_features: int,
                    classifier: bool) -> Booster:
        """The boosters saved by :meth:`to_arrays`; CheckpointError if one is missing or reads other features."""
        boosters = []
        for i in range(n):
            key = f"{prefix}_booster_{i}"
            if key not in arrays or arrays[key].dtype != np.uint8 or arrays[key].ndim != 1:
                raise CheckpointError(f"the checkpoint lacks the booster text {key}")
            try:
                booster = lgb.Booster(model_str=arrays[key].tobytes().decode())
            except (lgb.basic.LightGBMError, UnicodeDecodeError) as exc:
                raise CheckpointError(f"booster {key} in the checkpoint is corrupt: {exc}") from None
            if booster.num_feature() != n_features:
                raise CheckpointError(f"booster {key} reads {booster.num_feature()} features, the model {n_features}")
            boosters.append(booster)
        return cls(boosters, classifier)


def _blend(boosted: np.ndarray, trees: tuple[np.ndarray, np.ndarray], w: float) -> tuple[np.ndarray, np.ndarray]:
    """The mixture of weight `w` spread over the boosters (rows of `boosted`) and 1 − `w` on the forest (mean, std)."""
    n = len(boosted)
    means = np.vstack([boosted, trees[0]])
    variances = np.vstack([np.zeros_like(boosted), trees[1] ** 2])
    return mixture(means, variances, np.r_[np.full(n, w / n), 1 - w])


class BoostedTrees(MagpieForest):
    """LightGBM plus extra trees on Magpie, element-fraction and stoichiometry features."""

    name = "boosted"
    config_class = BoostedConfig  # type: ignore[assignment]
    config: BoostedConfig  # type: ignore[assignment]
    features = ("Magpie-style composition descriptors (138), element fractions by Z (120), mixing entropy and "
                "largest/smallest fraction (3)")

    def __init__(self, config: BoostedConfig | None = None, **overrides):
        super().__init__(config, **overrides)  # type: ignore[arg-type]
        self.boosted: dict[str, Booster] = {}
        self.trees: dict[str, ArrayForest] = {}

    def fit_arrays(self, X: np.ndarray, y: np.ndarray, tc: np.ndarray | None) -> None:
        """Boosters and extra trees for the classifier on `y`; with `tc`, for the regressor on rows with Tc > 0."""
        c = self.config
        common = {"n_estimators": c.extra_trees, "max_features": c.extra_max_features,
                  "random_state": c.random_state, "n_jobs": N_THREADS}
        self.boosted = {"clf": Booster.fit(X, y, c, classifier=True)}
        self.trees = {"clf": ArrayForest.from_sklearn(ExtraTreesClassifier(**common).fit(X, y))}
        if tc is not None:
            sc = tc > 0
            self.boosted["reg"] = Booster.fit(X[sc], tc[sc], c, classifier=False)
            self.trees["reg"] = ArrayForest.from_sklearn(ExtraTreesRegressor(**common).fit(X[sc], tc[sc]))

    def featurize_batch(self, batch: CompositionBatch, structures: list[Structure] | None = None) -> np.ndarray:
        """Magpie features, element fractions and stoichiometry; global structure descriptors with ``use_structure``."""
        X = np.hstack([magpie_features(batch), fraction_vector(batch), stoichiometry_features(batch)])
        if structures is not None:
            X = np.hstack([X, np.stack([global_features(s) for s in structures])])
        return X.astype(np.float32)

    def predict_features(self, X: np.ndarray) -> pd.DataFrame:
        """Mixture mean and spread of P(superconductor) and Tc (Tc clipped at 0 K)."""
        c = self.config
        p, p_std = _blend(self.boosted["clf"].predictions(X), self.trees["clf"].moments(X), c.weight_boosted)
        if "reg" in self.boosted:
            tc, tc_std = _blend(self.boosted["reg"].predictions(X), self.trees["reg"].moments(X), c.weight_boosted_tc)
        else:
            tc = tc_std = np.full(len(X), np.nan)
        return pd.DataFrame({"p_sc": np.clip(p, 0.0, 1.0), "p_sc_std": p_std, "tc_K": np.maximum(tc, 0.0),
                             "tc_std_K": tc_std})

    def save(self, card: dict, name: str | None = None) -> None:
        """Write the boosters' text dumps and the extra trees' arrays plus a card to ``checkpoints/<name>``."""
        arrays: dict[str, np.ndarray] = {}
        for head in self.boosted:
            arrays |= self.boosted[head].to_arrays(head) | self.trees[head].to_arrays(head)
        checkpoints.save(name or self.name, arrays, {**card, "params": self.params, "model": self.name})

    @classmethod
    def load(cls, name: str | None = None) -> BoostedTrees:
        """Read from a checkpoint after checking its hash, the boosters' feature counts and the trees' arrays."""
        arrays, card = checkpoints.load(name or cls.name)
        model = cls(**card["params"])
        heads = [head for head in ("clf", "reg") if head == "clf" or f"{head}_offsets" in arrays]
        for head, forest in zip(heads, load_forests(arrays, heads), strict=True):
            model.trees[head] = forest
            model.boosted[head] = Booster.from_arrays(arrays, head, model.config.n_members, forest.n_features,
                                                      classifier=head == "clf")
        model.card, model.version = card, card.get("version", card["created"])
        return model
