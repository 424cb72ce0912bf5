"""Forest inference speed: ``python benchmarks/forest_inference.py``.

Rows per second of the committed baseline forests on 20,000 Magpie feature rows (COD formulas), by
the replaced path (scikit-learn trees rebuilt from the arrays through the private ``Tree.__setstate__``,
kept here only to time it) and by :class:`sc_core.models.trees.ArrayForest`. Best of three runs; wall
and CPU seconds, since on a shared machine the wall time also counts waiting for a core.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
from sklearn.tree._tree import Tree

from sc_core import checkpoints, data
from sc_core.featurize.composition import magpie_features, to_batch
from sc_core.io import InputError, parse_formula
from sc_core.models import trees
from sc_core.models.trees import ArrayForest

N_ROWS = 20_000
REPEATS = 3


def _feature_rows() -> np.ndarray:
    """Magpie features of the first N_ROWS COD formulas that parse."""
    comps = []
    for formula in data.load_cod(inorganic_only=False)["formula"]:
        try:
            comps.append(parse_formula(formula))
        except InputError:
            continue
        if len(comps) == N_ROWS:
            break
    return magpie_features(to_batch(comps))


def _sklearn_trees(forest: ArrayForest, classifier: bool) -> list[Tree]:
    """The forest as scikit-learn trees, as the baseline rebuilt them at load before ArrayForest."""
    out = []
    for start, stop in zip(forest.offsets[:-1], forest.offsets[1:]):
        left, right = forest.left[start:stop], forest.right[start:stop]
        value = forest.value[start:stop]
        tree = Tree(forest.n_features, np.array([2 if classifier else 1], dtype=np.intp), 1)
        nodes = np.zeros(stop - start, dtype=tree.__getstate__()["nodes"].dtype)
        nodes["left_child"], nodes["right_child"] = left, right
        nodes["feature"] = np.where(left == -1, -2, forest.feature[start:stop])
        nodes["threshold"] = np.where(left == -1, -2.0, forest.threshold[start:stop])
        values = np.stack([1 - value, value], axis=1) if classifier else value[:, None]
        tree.__setstate__({"max_depth": 64, "node_count": len(nodes), "nodes": nodes,  # predict reads no depth
                           "values": np.ascontiguousarray(values[:, None, :])})
        out.append(tree)
    return out


def _sklearn_moments(sk_trees: list[Tree], X: np.ndarray, classifier: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread over trees by scikit-learn's `Tree.predict`, trees split over threads as before."""
    X = np.ascontiguousarray(X, dtype=np.float32)

    def run(chunk: list[Tree]) -> np.ndarray:
        v = np.stack([t.predict(X) for t in chunk])
        return v[:, :, 1] / v.sum(axis=2) if classifier else v[:, :, 0]

    with ThreadPoolExecutor(trees.N_THREADS) as pool:
        values = np.concatenate(list(pool.map(run, [sk_trees[i :: trees.N_THREADS] for i in range(trees.N_THREADS)])))
    return values.mean(axis=0), values.std(axis=0)


def _best_of(fn: Callable[[], tuple[np.ndarray, np.ndarray]]) -> tuple[float, float, np.ndarray]:
    """(wall s, CPU s, mean) of the fastest of REPEATS calls."""
    best = (np.inf, np.inf, None)
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        mean, _ = fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        best = min(best, (wall, cpu, mean), key=lambda b: b[0])
    return best


def main() -> None:
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}; {trees.N_THREADS} threads")
    X = _feature_rows()
    arrays, card = checkpoints.load("baseline")
    print(f"baseline {card.get('version', card['created'])}, {len(X):,} Magpie rows x {X.shape[1]} features")
    for prefix, classifier in [("clf", True), ("reg", False)]:
        forest = ArrayForest.from_arrays(arrays, prefix)
        forest.moments(X[:10])  # builds the traversal layout once, as the first prediction does
        sk_trees = _sklearn_trees(forest, classifier)
        old = _best_of(partial(_sklearn_moments, sk_trees, X, classifier))
        new = _best_of(partial(forest.moments, X))
        print(f"\n{prefix}: {forest.n_trees} trees, {len(forest.left):,} nodes; "
              f"max |new - old| mean {np.abs(new[2] - old[2]).max():.1e}")
        for label, (wall, cpu, _) in [("scikit-learn trees (old)", old), ("ArrayForest numpy (new)", new)]:
            print(f"    {label:26s} {wall:6.2f} s wall {cpu:6.2f} s CPU  {len(X) / wall:9,.0f} rows/s")


if __name__ == "__main__":
    main()
