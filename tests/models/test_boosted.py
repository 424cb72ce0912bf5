"""Boosted trees: features, the mixture's moments, pickle-free save/load, corrupt boosters refused."""

import numpy as np
import pytest

from sc_core import checkpoints, data
from sc_core.checkpoints import CheckpointError
from sc_core.featurize.composition import to_batch
from sc_core.io import parse_formula
from sc_core.models.boosted import BoostedTrees, _blend, stoichiometry_features


@pytest.fixture(scope="module")
def training_rows():
    table = data.load_supercon().sample(n=1200, random_state=1)
    return [parse_formula(f) for f in table["formula"]], table["tc"].to_numpy()


@pytest.fixture(scope="module")
def small_model(training_rows):
    comps, tc = training_rows
    return BoostedTrees(n_members=2, n_estimators=30, extra_trees=10, random_state=0).fit(comps, tc=tc)


def test_stoichiometry_features_of_known_compositions():
    feats = stoichiometry_features(to_batch([parse_formula("MgB2"), parse_formula("Nb")]))
    np.testing.assert_allclose(feats[0], [-(np.log(1 / 3) / 3 + 2 / 3 * np.log(2 / 3)), 2 / 3, 1 / 3])
    np.testing.assert_allclose(feats[1], [0.0, 1.0, 1.0])


def test_blend_moments_match_pooled_samples():
    rng = np.random.default_rng(0)
    boosted, trees = rng.normal(1, 0.2, (4, 5)), rng.normal(3, 0.5, (200, 5))
    mean, std = _blend(boosted, (trees.mean(axis=0), trees.std(axis=0)), w=0.5)
    # an equal mixture: weight each boosted sample 1/8, each tree 1/400
    weights = np.r_[np.full(4, 1 / 8), np.full(200, 1 / 400)][:, None]
    pooled = np.vstack([boosted, trees])
    expected_mean = (weights * pooled).sum(axis=0)
    np.testing.assert_allclose(mean, expected_mean)
    np.testing.assert_allclose(std, np.sqrt((weights * (pooled - expected_mean) ** 2).sum(axis=0)))


def test_predictions_in_range_with_spread(small_model):
    out = small_model.predict(["Nb3Sn", "YBa2Cu3O7", "SiO2", "Xx2"])
    good = out.iloc[:3]
    assert good["p_sc"].between(0, 1).all() and (good["tc_K"] >= 0).all()
    assert (good["p_sc_std"] > 0).all() and (good["tc_std_K"] > 0).all()
    assert "Xx" in out.loc[3, "error"]
    assert out.loc[1, "tc_K"] > out.loc[0, "tc_K"]  # a cuprate above an A15


def test_classifier_ranks_held_out_rows(training_rows):
    table = data.load_supercon().sample(n=600, random_state=7)
    comps, tc = training_rows
    model = BoostedTrees(n_members=1, n_estimators=60, extra_trees=20).fit(comps, tc=tc)
    p = model.predict([parse_formula(f) for f in table["formula"]])["p_sc"].to_numpy()
    y = table["tc"].to_numpy() > 0
    assert p[y].mean() > p[~y].mean() + 0.1


def test_save_load_round_trip_is_exact(small_model, tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    small_model.save({"version": "test"}, name="boosted")
    arrays, _ = checkpoints.load("boosted", root=tmp_path)
    assert all(a.dtype != object for a in arrays.values())
    reloaded = BoostedTrees.load("boosted")
    formulas = list(data.load_supercon()["formula"][:200])
    a, b = small_model.predict(formulas), reloaded.predict(formulas)
    for col in ("p_sc", "p_sc_std", "tc_K", "tc_std_K"):
        np.testing.assert_array_equal(a[col], b[col])


def test_a_corrupt_booster_is_refused(small_model, tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    arrays = small_model.boosted["clf"].to_arrays("clf") | small_model.trees["clf"].to_arrays("clf")
    arrays["clf_booster_1"] = np.frombuffer(b"tree\nnot a model", dtype=np.uint8)
    checkpoints.save("boosted", arrays, {"params": small_model.params})  # hashes match: only the content is bad
    with pytest.raises(CheckpointError, match="clf_booster_1"):
        BoostedTrees.load("boosted")
