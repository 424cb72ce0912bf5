import pytest

from sc_core.chemistry import (
    chemical_system,
    composition_key,
    family,
    periodic_table_grid,
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


def test_periodic_table_grid():
    grid = periodic_table_grid()
    assert list(grid.columns) == ["symbol", "Z", "row", "col"]
    assert len(grid) == 103 and grid["Z"].tolist() == list(range(1, 104))
    assert not grid.duplicated(["row", "col"]).any()
    cell = grid.set_index("symbol")[["row", "col"]]
    assert tuple(cell.loc["Fe"]) == (4, 8)
    assert tuple(cell.loc["La"]) == (6, 3) and tuple(cell.loc["Hf"]) == (6, 4)
    assert tuple(cell.loc["Ce"]) == (9, 4) and tuple(cell.loc["Lr"]) == (10, 17)
    assert 8 not in set(grid["row"]) and grid["col"].between(1, 18).all()
