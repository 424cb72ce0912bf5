import numpy as np
import pytest
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from sc_core import InputError, models
from sc_core.attribution import (
    EMPTY_P_SC,
    EMPTY_TC_K,
    FIG7_EXAMPLES,
    element_contributions,
    element_summary,
    fig7_example,
    h3s_im3m,
    site_contributions,
    site_table,
    symmetry_spread,
    symmetry_warning,
)
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


class SiteIndexModel:
    """Stands in for a structure model: site i contributes i − 1 (CAM) or −(i − 1) (gradient × input)."""

    name = "site_index"
    attribution_methods = ("cam", "grad_x_input")

    def atom_contributions(self, structure, method="cam"):
        values = np.arange(len(structure), dtype=float) - 1
        return values if method == "cam" else -values


@pytest.fixture
def partly_occupied():
    return Structure(Lattice.cubic(4.0), [{"Ba": 0.6, "K": 0.4}, "Fe", "Fe", "As"],
                     [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def test_site_table_reads_majority_element_and_occupancy(partly_occupied):
    table = site_table(partly_occupied)
    assert table["element"].tolist() == ["Ba", "Fe", "Fe", "As"]
    assert table["occupancy"].tolist() == pytest.approx([1.0, 1.0, 1.0, 1.0])
    assert table.loc[1, ["a", "b", "c"]].tolist() == pytest.approx([0.5, 0.5, 0.0])


def test_site_contributions_and_element_summary(partly_occupied):
    sites = site_contributions(SiteIndexModel(), partly_occupied)
    assert sites["contribution"].tolist() == [-1.0, 0.0, 1.0, 2.0]
    assert site_contributions(SiteIndexModel(), partly_occupied, "grad_x_input")["contribution"].tolist() == [
        1.0, 0.0, -1.0, -2.0]
    summary = element_summary(sites).set_index("element")
    assert summary.index.tolist() == ["As", "Fe", "Ba"]  # by summed contribution
    assert summary.loc["Fe", "sites"] == 2 and summary.loc["Fe", "total"] == 1.0 and summary.loc["Fe", "mean"] == 0.5
    with pytest.raises(InputError, match="not occlusion"):
        site_contributions(SiteIndexModel(), partly_occupied, "occlusion")


def test_site_table_groups_symmetry_equivalent_sites(partly_occupied):
    table = site_table(partly_occupied)
    sets = table["equivalent_set"].tolist()
    assert sets[1] == sets[2] and len({sets[0], sets[1], sets[3]}) == 3  # the two Fe are related by a 4-fold axis
    h3s = site_table(h3s_im3m())
    assert set(h3s.loc[h3s["element"] == "H", "wyckoff"]) == {"6b"}
    assert set(h3s.loc[h3s["element"] == "S", "wyckoff"]) == {"2a"}


def test_wyckoff_multiplicities_are_those_of_the_conventional_cell():
    conventional = Structure.from_spacegroup("I4/mmm", Lattice.tetragonal(3.81, 13.2), ["La", "Cu", "O", "O"],
                                             [[0, 0, 0.361], [0, 0, 0], [0, 0.5, 0], [0, 0, 0.186]])
    primitive = conventional.get_primitive_structure()  # half the sites of the I-centred cell
    expected = {("La", "4e"), ("Cu", "2a"), ("O", "4c"), ("O", "4e")}
    for cell in (conventional, primitive, primitive * (2, 1, 1)):
        table = site_table(cell)
        assert set(zip(table["element"], table["wyckoff"], strict=True)) == expected
        assert table["equivalent_set"].nunique() == 4  # a supercell's copies of a site are one set


def test_symmetry_spread_flags_unequal_equivalent_sites(partly_occupied):
    sites = site_contributions(SiteIndexModel(), partly_occupied)  # the equivalent Fe sites get 0 and 1
    assert symmetry_spread(sites) == (1.0, 3.0)
    assert "equivalent" in symmetry_warning(sites)
    symmetric = sites.assign(contribution=[-1.0, 0.5, 0.5, 2.0])
    assert symmetry_spread(symmetric) == (0.0, 3.0) and symmetry_warning(symmetric) is None


def test_h3s_is_body_centred_cubic():
    structure = h3s_im3m()
    assert structure.composition.reduced_formula == "H3S"
    assert SpacegroupAnalyzer(structure).get_space_group_symbol() == "Im-3m"
    assert min(structure.distance_matrix[np.triu_indices(len(structure), 1)]) == pytest.approx(3.09 / 2)


def test_fig7_examples_are_available():
    for formula in FIG7_EXAMPLES:
        structure, label = fig7_example(formula)
        assert structure.composition.reduced_formula == formula
        assert "Fig. 7" in label
