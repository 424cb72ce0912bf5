import pytest

from sc_core.chemistry import (
    chemical_system,
    composition_key,
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
