"""Heads on CHGNet's frozen encoder: a toy rule, one answer per crystal, equal credit, bad input, save/load."""

import numpy as np
import pytest
from fakes import empty_chgnet_cache  # noqa: F401 (a fixture)
from pymatgen.core import Lattice, Structure
from toy_structures import toy_structures

from sc_core import attribution, checkpoints, invariance
from sc_core.models.chgnet_heads import ChgnetHeads

pytestmark = pytest.mark.usefixtures("empty_chgnet_cache")

FAST = {"n_members": 2, "width": 16, "out": 16, "head_width": 16, "epochs": 25, "batch_size": 8, "lr": 1e-2}
NBTI = Structure(Lattice.cubic(3.3), [{"Nb": 0.7, "Ti": 0.3}] * 2, [[0, 0, 0], [0.5, 0.5, 0.5]])
FEO = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.4), ["Fe", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def toy_model(**overrides) -> ChgnetHeads:
    structures, tc = toy_structures(24)
    return ChgnetHeads(**(FAST | overrides)).fit(structures, tc=tc)


def test_fit_predict_learns_a_toy_rule_and_reports_bad_rows():
    model = toy_model()
    americium = Structure(Lattice.cubic(4.0), ["Am"], [[0, 0, 0]])
    pred = model.predict([NBTI, FEO, "MgB2", americium])
    assert pred["p_sc"][0] > 0.7 and pred["p_sc"][1] < 0.3 and pred["tc_K"][0] > 3
    assert "crystal structure" in pred["error"][2]
    assert "H to Pu" in pred["error"][3] and np.isnan(pred["p_sc"][3])
    assert pred["error"][0] == pred["error"][1] == ""


def test_structures_chgnet_cannot_read_are_left_out_of_training():
    structures, tc = toy_structures(24)
    americium = Structure(Lattice.cubic(4.0), ["Am"], [[0, 0, 0]])
    model = ChgnetHeads(**(FAST | {"epochs": 2})).fit(structures + [americium], tc=np.append(tc, 1.0))
    assert model.n_unread == 1 and "1 training structures left out" in model.card_notes()


def test_unknown_tc_marks_a_superconductor():
    structures, tc = toy_structures(24)
    model = ChgnetHeads(**FAST).fit(structures, tc=np.where(tc > 0, np.nan, 0.0))  # S2S-style labels
    pred = model.predict([NBTI, FEO])
    assert pred["p_sc"][0] > 0.7 and pred["p_sc"][1] < 0.3


def test_one_answer_per_crystal_and_equal_credit_on_equivalent_sites():
    model = toy_model(epochs=3)
    rock_salt = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Nb", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    gaps = invariance.invariance_gaps(model, [rock_salt, NBTI], seed=2)
    assert gaps["dp"].max() <= invariance.P_TOLERANCE and gaps["dtc_K"].max() <= invariance.TC_TOLERANCE_K
    sites = attribution.site_contributions(model, rock_salt)
    within, overall = attribution.symmetry_spread(sites)
    assert overall > 0 and within <= 1e-4 * overall


def test_save_load_round_trip_and_element_vectors(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    model = toy_model(epochs=2)
    model.save({"version": "test", "data_hash": "none"})
    loaded = ChgnetHeads.load()
    a, b = model.predict([NBTI, FEO]), loaded.predict([NBTI, FEO])
    np.testing.assert_allclose(a[["p_sc", "tc_K"]].to_numpy(float), b[["p_sc", "tc_K"]].to_numpy(float), rtol=1e-5)
    vectors = loaded.element_vectors()
    assert vectors.shape == (94, 64) and vectors.index[0] == "H" and vectors.index[-1] == "Pu"
