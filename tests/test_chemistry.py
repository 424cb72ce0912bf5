import pytest
from pymatgen.core import Composition

from sc_core.chemistry import (
    chemical_system,
    composition_key,
    discovery_family,
    family,
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
