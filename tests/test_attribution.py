import numpy as np
import pytest
from pymatgen.core import Composition

from sc_core import InputError, models
from sc_core.attribution import EMPTY_P_SC, EMPTY_TC_K, element_contributions
from sc_core.io import parse_formula


@pytest.fixture(scope="module")
def model():
    return models.load("baseline")


def test_deltas_are_full_minus_reduced_predictions(model):
    table = element_contributions(model, parse_formula("Ba0.6K0.4Fe2As2"))
    assert list(table.columns) == ["element", "fraction", "delta_p", "delta_tc_K"]
    assert sorted(table["element"]) == ["As", "Ba", "Fe", "K"]
    assert table["fraction"].sum() == pytest.approx(1.0)
    assert table["delta_p"].abs().is_monotonic_decreasing
    full, without_fe = model.predict(["Ba0.6K0.4Fe2As2", "Ba0.6K0.4As2"]).iloc  # Fe removed by hand
    fe = table.set_index("element").loc["Fe"]
    assert fe["fraction"] == pytest.approx(2 / 5)
    assert fe["delta_p"] == pytest.approx(full["p_sc"] - without_fe["p_sc"])
    assert fe["delta_tc_K"] == pytest.approx(full["tc_K"] - without_fe["tc_K"])


def test_single_element_is_compared_with_the_reference(model):
    table = element_contributions(model, Composition("Nb"))
    full = model.predict(["Nb"]).iloc[0]
    assert table["element"].tolist() == ["Nb"] and table["fraction"].iloc[0] == 1.0
    assert table["delta_p"].iloc[0] == pytest.approx(full["p_sc"] - EMPTY_P_SC)
    assert table["delta_tc_K"].iloc[0] == pytest.approx(full["tc_K"] - EMPTY_TC_K)
    assert np.isfinite(table[["delta_p", "delta_tc_K"]].to_numpy()).all()


def test_empty_composition_is_an_input_error(model):
    with pytest.raises(InputError, match="empty"):
        element_contributions(model, Composition())


@pytest.mark.filterwarnings("ignore:No Pauling electronegativity")  # pymatgen, when it writes the Rf formula
def test_failed_full_prediction_is_an_input_error(model):
    with pytest.raises(InputError, match="Lr"):
        element_contributions(model, Composition("Rf2Nb"))
