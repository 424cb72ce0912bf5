"""Magpie random-forest baseline: a classifier for P(superconductor) and a Tc regressor.

The classifier learns SuperCon (Tc > 0 vs Tc = 0) plus "garbage-in" COD compositions as Tc = 0; the
regressor learns Tc on superconductors only, so ``tc_K`` reads "Tc if it superconducts". The spread
of the trees gives ``p_sc_std`` and ``tc_std_K``. Trees are stored as plain arrays (no pickles) and
rebuilt into scikit-learn trees at load.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Structure
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.tree._tree import Tree

from sc_core import checkpoints, data
from sc_core.data import ELEMENT_PROPERTIES, load_elements
from sc_core.featurize.composition import MAX_Z, magpie_features, to_batch
from sc_core.featurize.structure import global_features
from sc_core.models.base import Config, FeatureModel

_N_THREADS = 2


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
    features = "Magpie-style composition descriptors (138), sc_core.featurize.composition"
    datasets = ("supercon", "hosono2018", "s2s", "3dsc")
    # on structure benchmarks, global structure descriptors are added to the Magpie features
    protocol_params = {"s2s": {"use_structure": True}, "3dsc": {"use_structure": True}}

    def __init__(self, config: ForestConfig | None = None, **overrides):
        super().__init__(config, **overrides)
        self.classifier: RandomForestClassifier | None = None
        self.regressor: RandomForestRegressor | None = None

    @property
    def input_column(self) -> str:
        return "structure" if self.config.use_structure else "composition"

    @classmethod
    def train_deployed(cls, seed: int = 0, progress: bool = False) -> tuple[MagpieForest, dict]:
        """SuperCon (minus the Hosono 2018 list) plus COD garbage-in."""
        comps, tc, described = data.deployed_training_set(seed)
        return cls(random_state=seed).fit(comps, tc=tc), described

    # -- training -------------------------------------------------------------------------
    def fit(self, inputs: list[Composition | Structure], tc: np.ndarray | None = None,
            labels: np.ndarray | None = None, progress: bool = False) -> MagpieForest:
        """Fit on compositions (or structures, with ``use_structure``) and Tc in K (0 = not a superconductor).

        `labels` overrides ``tc > 0`` as the classification target; without `tc` no regressor is fitted.
        """
        X = self.featurize(inputs)
        y = np.asarray(labels if labels is not None else np.asarray(tc) > 0, dtype=bool)
        c = self.config
        common = {"n_estimators": c.n_estimators, "min_samples_leaf": c.min_samples_leaf,
                  "random_state": c.random_state, "n_jobs": _N_THREADS}
        self.classifier = RandomForestClassifier(**common).fit(X, y)
        if tc is not None:
            tc = np.asarray(tc, dtype=float)
            self.regressor = RandomForestRegressor(max_features=c.regressor_max_features, **common).fit(
                X[tc > 0], tc[tc > 0])
        return self

    def featurize(self, inputs: list[Composition | Structure]) -> np.ndarray:
        """Magpie features, plus global structure descriptors when ``use_structure`` is set."""
        comps = [s.composition if isinstance(s, Structure) else s for s in inputs]
        X = magpie_features(to_batch(comps))
        if self.config.use_structure:
            X = np.hstack([X, np.stack([global_features(s) for s in inputs])])
        return X

    # -- inference -------------------------------------------------------------------------
    def predict_features(self, X: np.ndarray) -> pd.DataFrame:
        """Mean and spread over trees of P(superconductor) and Tc for a feature matrix."""
        p_mean, p_std = _tree_moments(self.classifier.estimators_, X, proba=True)
        if self.regressor is None:
            t_mean = t_std = np.full(len(X), np.nan)
        else:
            t_mean, t_std = _tree_moments(self.regressor.estimators_, X, proba=False)
        return pd.DataFrame({"p_sc": p_mean, "p_sc_std": p_std, "tc_K": t_mean, "tc_std_K": t_std})

    def element_vectors(self, stage: str | None = None) -> pd.DataFrame:
        """The Magpie element properties the forests read, standardised per property."""
        table = load_elements().set_index("symbol")[ELEMENT_PROPERTIES].iloc[:MAX_Z]
        table = table.fillna(table.median())
        return (table - table.mean()) / table.std()

    # -- persistence -------------------------------------------------------------------------
    def save(self, card: dict, name: str | None = None) -> None:
        """Write the forests as arrays plus a card to ``checkpoints/<name>``."""
        arrays = _forest_arrays(self.classifier, "clf")
        if self.regressor is not None:
            arrays |= _forest_arrays(self.regressor, "reg")
        checkpoints.save(name or self.name, arrays, {**card, "params": self.params, "model": self.name})

    @classmethod
    def load(cls, name: str = "baseline") -> MagpieForest:
        """Rebuild from a checkpoint after checking its hash."""
        arrays, card = checkpoints.load(name)
        model = cls(**card["params"])
        model.classifier = _rebuild_forest(arrays, "clf", classifier=True)
        if "reg_offsets" in arrays:
            model.regressor = _rebuild_forest(arrays, "reg", classifier=False)
        model.card, model.version = card, card.get("version", card["created"])
        return model


def _tree_moments(trees: list, X: np.ndarray, proba: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over trees, computed in threads (tree inference releases the GIL)."""
    X = np.ascontiguousarray(X, dtype=np.float32)

    def run(chunk: list) -> tuple[np.ndarray, np.ndarray]:
        s = np.zeros(len(X))
        s2 = np.zeros(len(X))
        for tree in chunk:
            v = tree.tree_.predict(X)
            v = v[:, 1] / v.sum(axis=1) if proba else v[:, 0]
            s += v
            s2 += v * v
        return s, s2

    chunks = [trees[i::_N_THREADS] for i in range(_N_THREADS)]
    with ThreadPoolExecutor(_N_THREADS) as pool:
        parts = list(pool.map(run, chunks))
    n = len(trees)
    mean = sum(p[0] for p in parts) / n
    var = np.maximum(sum(p[1] for p in parts) / n - mean**2, 0.0)
    return mean, np.sqrt(var)


def _forest_arrays(forest, prefix: str) -> dict[str, np.ndarray]:
    """Concatenated node arrays of all trees: children, split feature and threshold, leaf value."""
    trees = [est.tree_ for est in forest.estimators_]
    values = [t.value[:, 0, :] for t in trees]
    if isinstance(forest, RandomForestClassifier):
        values = [v[:, 1] / v.sum(axis=1) for v in values]
    else:
        values = [v[:, 0] for v in values]
    return {
        f"{prefix}_offsets": np.cumsum([0] + [t.node_count for t in trees]).astype(np.int64),
        f"{prefix}_left": np.concatenate([t.children_left for t in trees]).astype(np.int32),
        f"{prefix}_right": np.concatenate([t.children_right for t in trees]).astype(np.int32),
        f"{prefix}_feature": np.concatenate([t.feature for t in trees]).astype(np.int16),
        f"{prefix}_threshold": np.concatenate([t.threshold for t in trees]),
        f"{prefix}_value": np.concatenate(values),
        f"{prefix}_n_features": np.array(forest.n_features_in_),
    }


def _rebuild_forest(arrays: dict[str, np.ndarray], prefix: str, classifier: bool):
    """scikit-learn forest from the arrays written by :func:`_forest_arrays`."""
    n_features = int(arrays[f"{prefix}_n_features"])
    offsets = arrays[f"{prefix}_offsets"]
    estimators = []
    for start, stop in zip(offsets[:-1], offsets[1:]):
        sl = slice(int(start), int(stop))
        left, right = arrays[f"{prefix}_left"][sl], arrays[f"{prefix}_right"][sl]
        value = arrays[f"{prefix}_value"][sl].astype(np.float64)
        n_classes = np.array([2] if classifier else [1], dtype=np.intp)
        tree = Tree(n_features, n_classes, 1)
        nodes = np.zeros(stop - start, dtype=tree.__getstate__()["nodes"].dtype)
        nodes["left_child"], nodes["right_child"] = left, right
        nodes["feature"] = np.where(left == -1, -2, arrays[f"{prefix}_feature"][sl])
        nodes["threshold"] = np.where(left == -1, -2.0, arrays[f"{prefix}_threshold"][sl])
        values = np.stack([1 - value, value], axis=1) if classifier else value[:, None]
        depth = _max_depth(left, right)
        tree.__setstate__({"max_depth": depth, "node_count": len(nodes), "nodes": nodes,
                           "values": np.ascontiguousarray(values[:, None, :])})
        est = (DecisionTreeClassifier if classifier else DecisionTreeRegressor)()
        est.tree_, est.n_features_in_, est.n_outputs_ = tree, n_features, 1
        if classifier:
            est.classes_, est.n_classes_ = np.array([False, True]), 2
        estimators.append(est)
    forest = (RandomForestClassifier if classifier else RandomForestRegressor)(n_estimators=len(estimators))
    forest.estimators_, forest.n_features_in_, forest.n_outputs_ = estimators, n_features, 1
    if classifier:
        forest.classes_, forest.n_classes_ = np.array([False, True]), 2
    return forest


def _max_depth(left: np.ndarray, right: np.ndarray) -> int:
    """Depth of a tree given its child arrays (nodes are stored parents first)."""
    depth = np.zeros(len(left), dtype=np.int64)
    for node in range(len(left)):
        if left[node] != -1:
            depth[left[node]] = depth[right[node]] = depth[node] + 1
    return int(depth.max())
