"""Random forests as plain node arrays, predicted by a vectorised numpy traversal.

scikit-learn fits the forests; :class:`ArrayForest` keeps only what prediction needs (children, split
feature and threshold, leaf value), saves it as arrays and predicts without building scikit-learn
trees or touching its private API. Splits follow scikit-learn exactly: features are cast to float32
and a sample goes left when ``x[feature] <= threshold``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sc_core.checkpoints import READ_THREADS, CheckpointError

FIELDS = ("offsets", "left", "right", "feature", "threshold", "value")
_DTYPES = {"offsets": np.int64, "left": np.int32, "right": np.int32, "feature": np.int16,
           "threshold": np.float64, "value": np.float64}
_NODE = np.dtype([("left", np.int32), ("feature", np.int32), ("threshold", np.float32), ("pad", np.int32)])
CHUNK_ROWS = 512  # rows per traversal chunk: (trees x rows) working arrays of about 2 MB
COMPACT_EVERY = 3  # drop (row, tree) pairs that reached a leaf every this many levels
N_THREADS = READ_THREADS  # the cores of the machine the project targets: forest fitting and prediction threads


@dataclass(frozen=True, eq=False)
class ArrayForest:
    """Trees concatenated node by node; tree ``t`` owns nodes ``offsets[t]:offsets[t + 1]``.

    `left`/`right` are child indices within the tree (-1 at leaves), `value` is the leaf prediction
    (P(positive class) for a classifier, the target for a regressor).
    """

    offsets: np.ndarray
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    n_features: int

    def __post_init__(self) -> None:
        for name in FIELDS:
            object.__setattr__(self, name, _checked_dtype(name, getattr(self, name)))
        object.__setattr__(self, "n_features", int(self.n_features))
        _check_structure(self)

    @classmethod
    def from_sklearn(cls, forest) -> ArrayForest:
        """The fitted trees of a scikit-learn random forest (binary classifier or single-output regressor)."""
        trees = [est.tree_ for est in forest.estimators_]
        values = [t.value[:, 0, :] for t in trees]
        classifier = hasattr(forest, "classes_")  # then P(second class), as predict_proba gives it
        values = [v[:, 1] / v.sum(axis=1) if classifier else v[:, 0] for v in values]
        return cls(offsets=np.cumsum([0] + [t.node_count for t in trees]),
                   left=np.concatenate([t.children_left for t in trees]),
                   right=np.concatenate([t.children_right for t in trees]),
                   feature=np.concatenate([t.feature for t in trees]),
                   threshold=np.concatenate([t.threshold for t in trees]),
                   value=np.concatenate(values), n_features=forest.n_features_in_)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> ArrayForest:
        """The forest saved by :meth:`to_arrays` under `prefix`; CheckpointError if arrays are missing or corrupt."""
        missing = [f"{prefix}_{name}" for name in (*FIELDS, "n_features") if f"{prefix}_{name}" not in arrays]
        if missing:
            raise CheckpointError(f"the checkpoint lacks the forest arrays {', '.join(missing)}")
        n_features = np.asarray(arrays[f"{prefix}_n_features"])
        if n_features.shape != () or not np.issubdtype(n_features.dtype, np.integer):
            raise CheckpointError(f"forest {prefix!r}: n_features must be one integer, got {n_features.shape} "
                                  f"{n_features.dtype}")
        try:
            return cls(**{name: arrays[f"{prefix}_{name}"] for name in FIELDS}, n_features=int(n_features))
        except CheckpointError as exc:
            raise CheckpointError(f"forest {prefix!r} in the checkpoint is corrupt: {exc}") from None

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Named arrays for ``weights.npz`` (``{prefix}_offsets``, ``_left``, ... ``_n_features``)."""
        arrays = {f"{prefix}_{name}": getattr(self, name) for name in FIELDS}
        return arrays | {f"{prefix}_n_features": np.array(self.n_features, dtype=np.int64)}

    @property
    def n_trees(self) -> int:
        return len(self.offsets) - 1

    def moments(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation over trees of the prediction for each row of `X`."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"the forest reads {self.n_features} features per row, got an array of shape {X.shape}")
        if np.isnan(X).any():
            raise ValueError("feature rows contain NaN; the forest has no rule for missing values")
        chunks = [X[start : start + CHUNK_ROWS] for start in range(0, len(X), CHUNK_ROWS)]
        _ = self._layout  # built once here, before the threads share it
        with ThreadPoolExecutor(N_THREADS) as pool:  # numpy's gathers release the GIL
            leaf_values = list(pool.map(self._leaf_values, chunks))
        if not leaf_values:
            return np.empty(0), np.empty(0)
        values = np.concatenate(leaf_values, axis=1)
        return values.mean(axis=0), values.std(axis=0)

    def _leaf_values(self, X: np.ndarray) -> np.ndarray:
        """(n_trees, rows) leaf values: all (row, tree) pairs descend one level per step."""
        nodes, value, depth = self._layout
        n_rows = len(X)
        flat_x = X.ravel()
        node = np.repeat(np.arange(self.n_trees, dtype=np.int32), n_rows)  # roots are nodes 0..n_trees-1
        row_start = np.tile(np.arange(n_rows, dtype=np.int32) * self.n_features, self.n_trees)
        pair = np.arange(self.n_trees * n_rows)
        out = np.empty(self.n_trees * n_rows)
        for step in range(1, depth + 1):
            rec = nodes.take(node)
            go_right = flat_x.take(rec["feature"] + row_start) > rec["threshold"]
            child = rec["left"] + go_right.view(np.int8)  # the right child follows the left one
            if step % COMPACT_EVERY == 0:
                done = rec["left"] == node  # leaves point to themselves
                at_leaf, active = np.flatnonzero(done), np.flatnonzero(~done)
                out[pair.take(at_leaf)] = value.take(node.take(at_leaf))
                node, row_start, pair = child.take(active), row_start.take(active), pair.take(active)
            else:
                node = child
        out[pair] = value.take(node)
        return out.reshape(self.n_trees, n_rows)

    @cached_property
    def _layout(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Nodes re-ordered level by level (siblings adjacent), leaf values in that order, and the depth.

        Leaves point to themselves with threshold +inf, so a pair that reached a leaf stays there.
        Thresholds are rounded down to float32, which keeps ``x <= threshold`` exact for float32 `x`.
        """
        start = _tree_start(self.offsets)
        leaf = self.left == -1
        left, right = self.left + start, self.right + start
        levels, frontier = [], self.offsets[:-1]
        while len(frontier):
            levels.append(frontier)
            inner = frontier[~leaf[frontier]]
            frontier = np.stack([left[inner], right[inner]], axis=1).ravel()
        order = np.concatenate(levels)
        new_index = np.empty_like(order)
        new_index[order] = np.arange(len(order))
        leaf = leaf[order]
        nodes = np.zeros(len(order), dtype=_NODE)
        nodes["left"] = np.where(leaf, np.arange(len(order)), new_index[left[order]])
        nodes["feature"] = np.where(leaf, 0, self.feature[order])
        nodes["threshold"] = np.where(leaf, np.inf, _round_down_to_float32(self.threshold[order]))
        return nodes, self.value[order], len(levels) - 1


def load_forests(arrays: dict[str, np.ndarray], prefixes: list[str]) -> list[ArrayForest]:
    """The forests saved under `prefixes`, checked and laid out for prediction on N_THREADS threads (most of
    the work is numpy's, which releases the GIL): a model is ready to predict when it has loaded."""
    def ready(prefix: str) -> ArrayForest:
        forest = ArrayForest.from_arrays(arrays, prefix)
        _ = forest._layout
        return forest

    with ThreadPoolExecutor(N_THREADS) as pool:
        return list(pool.map(ready, prefixes))


def _tree_start(offsets: np.ndarray) -> np.ndarray:
    """For each node, the index of its tree's root."""
    return np.repeat(offsets[:-1], np.diff(offsets))


def _round_down_to_float32(t: np.ndarray) -> np.ndarray:
    """The largest float32 <= each value: for float32 x, ``x <= t`` holds exactly when ``x <= result``."""
    t32 = t.astype(np.float32)
    above = t32.astype(np.float64) > t
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32


def _checked_dtype(name: str, a) -> np.ndarray:
    """`a` as a 1-D array of the stored dtype of field `name`, refusing values the cast would change."""
    a = np.asarray(a)
    dtype = np.dtype(_DTYPES[name])
    kind = np.integer if dtype.kind == "i" else np.floating
    if a.ndim != 1 or not np.issubdtype(a.dtype, kind):
        raise CheckpointError(f"{name} must be a 1-D {kind.__name__} array, got shape {a.shape} of {a.dtype}")
    cast = a.astype(dtype)
    if dtype.kind == "i" and not np.array_equal(cast, a):
        raise CheckpointError(f"{name} holds values outside the range of {dtype}")
    return cast


def _check_structure(forest: ArrayForest) -> None:
    """Raise CheckpointError unless the arrays form valid trees: every node of a tree is reached once from
    its root, children lie after their parent inside the same tree, and split features exist."""
    offsets, n = forest.offsets, len(forest.left)
    for name in ("right", "feature", "threshold", "value"):
        if len(getattr(forest, name)) != n:
            raise CheckpointError(f"{name} has {len(getattr(forest, name))} entries for {n} nodes")
    if len(offsets) < 2 or offsets[0] != 0 or offsets[-1] != n or (np.diff(offsets) < 1).any():
        raise CheckpointError(f"tree offsets must rise from 0 to the node count {n}")
    if forest.n_features < 1:
        raise CheckpointError(f"n_features must be positive, got {forest.n_features}")
    start = _tree_start(offsets)
    leaf = forest.left == -1
    inner = np.flatnonzero(~leaf)  # index arrays, gathered once: boolean masks would be applied eight times
    if (forest.right[leaf] != -1).any():
        raise CheckpointError("a leaf has a right child but no left child")
    root = start.take(inner)
    local, size = inner - root, np.repeat(np.diff(offsets), np.diff(offsets)).take(inner)
    children = []
    for side in (forest.left, forest.right):
        child = side.take(inner)
        if ((child <= local) | (child >= size)).any():
            raise CheckpointError("a child index points outside its tree or before its parent")
        children.append(child + root)
    if (np.bincount(np.concatenate(children), minlength=n) != (np.arange(n) != start)).any():
        raise CheckpointError("a node is reached from more than one parent, or from none")
    features = forest.feature.take(inner)
    if ((features < 0) | (features >= forest.n_features)).any():
        raise CheckpointError(f"a split feature lies outside 0..{forest.n_features - 1}")
    if np.isnan(forest.threshold.take(inner)).any() or not np.isfinite(forest.value[leaf]).all():
        raise CheckpointError("a split threshold is NaN or a leaf value is not finite")
