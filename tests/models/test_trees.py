"""Array forests: same predictions as scikit-learn (ties at thresholds included), storage format, validation."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from sc_core.checkpoints import CheckpointError
from sc_core.models import trees
from sc_core.models.trees import ArrayForest

COMMITTED = Path(__file__).resolve().parents[2] / "checkpoints" / "baseline" / "weights.npz"


def _training_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Integer-valued columns (many ties) next to continuous ones on very different scales."""
    X = np.hstack([rng.integers(0, 5, (400, 3)), rng.normal(0, 1, (400, 2)), rng.lognormal(3, 2, (400, 1))])
    y = X[:, 0] + X[:, 3] * X[:, 1] + np.log(X[:, 5]) + rng.normal(0, 0.5, 400)
    return X, y


def _rows_at_thresholds(forest, X: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Rows whose value of a split feature is that split's float64 threshold or its float32 neighbours."""
    tree = forest.estimators_[0].tree_
    inner = np.flatnonzero(tree.children_left != -1)
    rows = X[rng.integers(0, len(X), n)].copy()
    nodes = rng.choice(inner, n)
    t = tree.threshold[nodes]
    t32 = t.astype(np.float32)
    shift = rng.integers(0, 4, n)  # 0: the float64 threshold, 1: its float32, 2/3: one float32 step down/up
    rows[np.arange(n), tree.feature[nodes]] = np.select(
        [shift == 0, shift == 1, shift == 2],
        [t, t32, np.nextafter(t32, np.float32(-np.inf))], np.nextafter(t32, np.float32(np.inf)))
    return rows


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X, y = _training_data(rng)
    clf = RandomForestClassifier(n_estimators=15, random_state=0).fit(X, y > np.median(y))
    reg = RandomForestRegressor(n_estimators=15, max_features=1 / 3, random_state=0).fit(X, y)
    queries = np.vstack([_training_data(rng)[0], _rows_at_thresholds(clf, X, rng, 400),
                         _rows_at_thresholds(reg, X, rng, 400)])
    return clf, reg, queries


def test_moments_match_sklearn_to_1e12_including_ties(fitted):
    clf, reg, X = fitted
    assert len(X) > 2 * trees.CHUNK_ROWS  # several chunks, so the threads and the joining are exercised
    for forest, per_tree in [(clf, lambda est: est.predict_proba(X)[:, 1]), (reg, lambda est: est.predict(X))]:
        mean, std = ArrayForest.from_sklearn(forest).moments(X)
        reference = np.stack([per_tree(est) for est in forest.estimators_])
        np.testing.assert_allclose(mean, reference.mean(axis=0), rtol=0, atol=1e-12)
        np.testing.assert_allclose(std, reference.std(axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ArrayForest.from_sklearn(clf).moments(X)[0], clf.predict_proba(X)[:, 1], atol=1e-12)


def _stump(threshold: float) -> ArrayForest:
    """One split on feature 0: value 0 on the left (x <= threshold), 1 on the right."""
    return ArrayForest(offsets=np.array([0, 3]), left=np.array([1, -1, -1]), right=np.array([2, -1, -1]),
                       feature=np.array([0, -2, -2]), threshold=np.array([threshold, -2.0, -2.0]),
                       value=np.array([0.5, 0.0, 1.0]), n_features=1)


def test_ties_go_left_after_the_float32_cast():
    """x equal to the threshold goes left; 0.1 rounds up to float32, so x = 0.1 goes right as in scikit-learn."""
    assert np.float64(np.float32(0.1)) > 0.1
    below = np.nextafter(np.float32(0.1), np.float32(0))
    np.testing.assert_array_equal(_stump(0.1).moments(np.array([[0.1], [below], [0.2]]))[0], [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(_stump(0.5).moments(np.array([[0.5], [0.4999], [0.5001]]))[0], [0.0, 0.0, 1.0])


def test_arrays_round_trip_and_match_the_committed_format(fitted):
    clf, reg, X = fitted
    forest = ArrayForest.from_sklearn(reg)
    arrays = forest.to_arrays("reg")
    committed = np.load(COMMITTED)
    assert {k: v.dtype for k, v in arrays.items()} == {k: committed[k].dtype for k in committed if k.startswith("reg_")}
    again = ArrayForest.from_arrays(arrays, "reg")
    np.testing.assert_array_equal(again.moments(X)[0], forest.moments(X)[0])


def test_empty_input_and_bad_shapes(fitted):
    forest = ArrayForest.from_sklearn(fitted[1])
    mean, std = forest.moments(np.empty((0, 6)))
    assert mean.shape == std.shape == (0,)
    with pytest.raises(ValueError, match="6 features"):
        forest.moments(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        forest.moments(np.full((2, 6), np.nan))


def _corrupt(arrays: dict, key: str, change) -> dict:
    arrays = {k: v.copy() for k, v in arrays.items()}
    arrays[key] = change(arrays[key])
    return arrays


def _set(index: int, value):
    def change(a):
        a[index] = value
        return a
    return change


@pytest.mark.parametrize("key, change, message", [
    ("reg_left", _set(0, 10**6), "outside its tree"),
    ("reg_left", _set(0, 0), "before its parent"),
    ("reg_right", _set(0, 1), "more than one parent"),
    ("reg_right", _set(0, -1), "outside its tree"),
    ("reg_feature", _set(0, 6), "split feature"),
    ("reg_feature", lambda a: a.astype(float), "integer"),
    ("reg_value", lambda a: a[:-1], "entries for"),
    ("reg_offsets", _set(-1, 5), "offsets"),
    ("reg_threshold", _set(0, np.nan), "NaN"),
    ("reg_n_features", lambda a: np.array([6, 6]), "one integer"),
    ("reg_left", lambda a: np.array([], dtype=np.int32), "entries for"),
])
def test_corrupt_arrays_raise_checkpoint_error(fitted, key, change, message):
    arrays = ArrayForest.from_sklearn(fitted[1]).to_arrays("reg")
    with pytest.raises(CheckpointError, match=message):
        ArrayForest.from_arrays(_corrupt(arrays, key, change), "reg")


def test_missing_array_is_named():
    with pytest.raises(CheckpointError, match="clf_threshold"):
        ArrayForest.from_arrays({"clf_offsets": np.array([0, 1])}, "clf")


def test_forests_load_on_threads_as_one_by_one_and_corruption_still_raises(fitted):
    clf, reg, X = fitted
    arrays = ArrayForest.from_sklearn(clf).to_arrays("clf") | ArrayForest.from_sklearn(reg).to_arrays("reg")
    loaded = trees.load_forests(arrays, ["clf", "reg"])
    for forest, prefix in zip(loaded, ["clf", "reg"], strict=True):
        np.testing.assert_array_equal(forest.moments(X)[0], ArrayForest.from_arrays(arrays, prefix).moments(X)[0])
    with pytest.raises(CheckpointError, match="split feature"):
        trees.load_forests(_corrupt(arrays, "reg_feature", _set(0, 6)), ["clf", "reg"])
