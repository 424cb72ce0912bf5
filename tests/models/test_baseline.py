"""Magpie forest: fit, predict interface, safe save/load round trip, the committed checkpoint unchanged."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Lattice, Structure
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from sc_core import checkpoints, data, models
from sc_core.io import parse_formula
from sc_core.models.base import PREDICTION_COLUMNS
from sc_core.models.baseline import MagpieForest
from sc_core.models.trees import ArrayForest

# predictions of the committed checkpoint for 300 SuperCon formulas, made with scikit-learn trees rebuilt
# from its arrays (the load path before ArrayForest)
REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "baseline_reference.csv"


@pytest.fixture(scope="module")
def training_rows():
    table = data.load_supercon().sample(n=1500, random_state=0)
    return [parse_formula(f) for f in table["formula"]], table["tc"].to_numpy()


@pytest.fixture(scope="module")
def small_model(training_rows):
    comps, tc = training_rows
    return MagpieForest(n_estimators=12, random_state=0).fit(comps, tc=tc)


def test_predict_interface_and_bad_rows(small_model):
    out = small_model.predict(["La1.85Sr0.15CuO4", "Xx2", "", "MgB2"])
    assert list(out.columns[: len(PREDICTION_COLUMNS)]) == PREDICTION_COLUMNS
    assert len(out) == 4
    good = out.iloc[[0, 3]]
    assert good["p_sc"].between(0, 1).all() and (good["tc_K"] > 0).all() and (good["error"] == "").all()
    assert "Xx" in out.loc[1, "error"] and np.isnan(out.loc[1, "p_sc"])
    assert "empty" in out.loc[2, "error"]


def test_structure_input_uses_its_composition(small_model):
    nacl = Structure(Lattice.cubic(5.6), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    by_structure = small_model.predict([nacl])
    by_formula = small_model.predict(["NaCl"])
    assert by_structure.loc[0, "p_sc"] == pytest.approx(by_formula.loc[0, "p_sc"])


def test_fitted_forests_predict_as_scikit_learn(small_model, training_rows):
    comps, tc = training_rows
    X_train = small_model.featurize(comps)
    common = {"n_estimators": 12, "random_state": 0}
    clf = RandomForestClassifier(**common).fit(X_train, tc > 0)  # the same forests, fitted by scikit-learn
    reg = RandomForestRegressor(max_features=1 / 3, **common).fit(X_train[tc > 0], tc[tc > 0])
    X = small_model.featurize([parse_formula(f) for f in data.load_supercon()["formula"][:700]])
    out = small_model.predict_features(X)
    np.testing.assert_allclose(out["p_sc"], clf.predict_proba(X)[:, 1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["tc_K"], reg.predict(X), rtol=0, atol=1e-12)


def test_uncertainty_is_spread_over_trees(small_model):
    out = small_model.predict(["Nb3Sn", "YBa2Cu3O7", "SiO2"])
    assert out["p_sc_std"].max() > 0 and (out["tc_std_K"] > 0).all()


def test_save_load_round_trip_is_exact(small_model, tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    small_model.save({"version": "test"}, name="baseline")
    arrays, _ = checkpoints.load("baseline", root=tmp_path)
    assert all(a.dtype != object for a in arrays.values())
    reloaded = MagpieForest.load("baseline")
    assert isinstance(reloaded.classifier, ArrayForest) and isinstance(reloaded.regressor, ArrayForest)
    formulas = list(data.load_supercon()["formula"][:300])
    a, b = small_model.predict(formulas), reloaded.predict(formulas)
    np.testing.assert_array_equal(a["p_sc"], b["p_sc"])
    np.testing.assert_array_equal(a["tc_K"], b["tc_K"])


def test_registry_loads_committed_baseline():
    committed = [n for n in models.registered() if (checkpoints.CHECKPOINT_DIR / n / "card.json").exists()]
    assert models.available() == committed and "baseline" in committed
    model = models.load("baseline")
    assert model.card["data_hash"] == data.manifest()["data_hash"]
    out = model.predict(["MgB2", "NaCl"])
    assert out.loc[0, "p_sc"] > out.loc[1, "p_sc"]
    assert model.element_vectors().shape[0] > 80


def test_committed_checkpoint_predicts_as_before():
    reference = pd.read_csv(REFERENCE)
    out = models.load("baseline").predict(reference["formula"].tolist())
    assert (out["error"] == "").all()
    for column in ["p_sc", "p_sc_std", "tc_K", "tc_std_K"]:
        np.testing.assert_allclose(out[column].to_numpy(float), reference[column], rtol=0, atol=1e-9)


def test_unknown_model_name():
    with pytest.raises(KeyError, match="unknown model"):
        models.model_class("nope")
