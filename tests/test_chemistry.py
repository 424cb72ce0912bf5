import pytest
from pymatgen.core import Composition

from sc_core.chemistry import (
    chemical_system,
    composition_key,
    discovery_family,
    display_formula,
    family,
    search,
)
from sc_core.io import parse_formula


def test_composition_key_is_scale_free():
    assert composition_key(parse_formula("Nb3Sn")) == composition_key(parse_formula("Nb6Sn2"))
    assert composition_key(parse_formula("Nb3Sn")) != composition_key(parse_formula("NbSn"))


def test_chemical_system_sorted():
    assert chemical_system(parse_formula("YBa2Cu3O7")) == "Ba-Cu-O-Y"


@pytest.mark.parametrize("formula, expected", [
    ("La1.85Sr0.15CuO4", "cuprate"), ("Ba0.6K0.4Fe2As2", "iron-based"), ("FeSe", "iron-based"),
    ("LaH10", "hydride"), ("H3S", "hydride"), ("MgB2", "other"), ("Fe2O3", "other"), ("CH4", "other"),
])
def test_family(formula, expected):
    assert family(parse_formula(formula)) == expected


@pytest.mark.parametrize(("formula", "expected"), [
    ("YBa2Cu3O7", "cuprate"), ("LaFeAsO0.9F0.1", "iron-based"), ("Nd0.8Sr0.2NiO2", "nickelate"),
    ("H3S", "hydride"), ("CeCu2Si2", "heavy-fermion"), ("UTe2", "heavy-fermion"), ("Nb3Sn", "A15"),
    ("V3Si", "A15"), ("Nb2Sn", "other"), ("MgB2", "boride-carbide"),
    ("LuNi2B2C", "boride-carbide"), ("NbSe2", "chalcogenide"), ("Pb", "other"), ("NbN", "other")])
def test_discovery_families(formula, expected):
    assert discovery_family(Composition(formula)) == expected


@pytest.mark.parametrize("text, expected", [
    ("Mg1B2", "MgB2"), ("Nb6Sn2", "Nb3Sn"), ("La4Cu2O8", "La2CuO4"),  # reduced, no '1' subscripts
    ("La1.85Sr0.15CuO4", "La1.85Sr0.15CuO4"), ("Sr0.15La1.85Cu1O4", "Sr0.15La1.85CuO4"),  # fractions kept, in order
    ("YBa2Cu3O7", "YBa2Cu3O7"), ("Ca10(Ir4As8)(Fe2As2)5", "Ca5Ir2As9Fe5"), ("Mg0.33B0.67", "Mg0.33B0.67"),
    ("Xx2O3", "Xx2O3"), ("", ""),  # not formulas: as they are
])
def test_display_formula(text, expected):
    assert display_formula(text) == expected


@pytest.mark.parametrize("cell, expected", [
    ("S2H6", "H3S"), ("O8Cu2La4", "La2CuO4"), ("B2Mg", "MgB2"), ("Cl2O2CuSr2", "Sr2CuO2Cl2"), ("H3N", "NH3"),
    ("Ba2Y1Cu3O7", "Ba2YCu3O7"), ("Si24O52N8H32C40", "C10H8N2O13Si6"),  # IUPAC order; Hill with C and H
])
def test_display_formula_reorders_a_structures_sites(cell, expected):
    assert display_formula(Composition(cell), reorder=True) == expected


def test_a_typed_formula_keeps_its_amounts():
    assert display_formula(Composition("K3C60"), reduce=False) == "K3C60"  # a molecule's 60, not KC20
    assert display_formula(Composition("Nb1 Sn0.25"), reduce=False) == "NbSn0.25"


def test_search_matches_formulas_by_elements_and_other_text_as_text():
    texts = ["MgB2 · mp-763", "Mg0.9Al0.1B2 · mp-1", "NbSe2 · mp-2", "La2CuO4 · mp-19735", "B2Mg3Al · mp-3"]
    assert search("MgB2", texts) == [0, 1, 4]  # every text with Mg and B, the fewest other elements first
    assert search("Mg B2", texts) == [0, 1, 4]
    a15 = ["NbSn3 · x", "Nb0.71Sn0.29 · x", "Nb3Sn · x", "Nb3Al0.1Sn0.9 · x"]
    assert search("Nb3Sn", a15) == [2, 1, 0, 3]  # the same stoichiometry first, then the closest
    assert search("mp-19", texts) == [3] and search("mgb2", texts) == [0] and search("", texts) == [0, 1, 2, 3, 4]
    assert search("Xx2", texts) == []
