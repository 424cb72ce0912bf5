"""Tests for sc_core.io: formulas, CIF/POSCAR reading and the single input box."""

import pytest
from pymatgen.core import Composition, Element, Lattice, Structure
from pymatgen.io.vasp import Poscar

from sc_core.io import (
    MAX_FILE_BYTES,
    MAX_SITES,
    InputError,
    is_mp_id,
    parse_formula,
    parse_input,
    read_structure,
    structure_to_cif,
)

NACL_HALF_NA_CIF = """data_NaCl
_symmetry_space_group_name_H-M   'F m -3 m'
_symmetry_Int_Tables_number   225
_cell_length_a   5.64
_cell_length_b   5.64
_cell_length_c   5.64
_cell_angle_alpha   90
_cell_angle_beta   90
_cell_angle_gamma   90
loop_
 _symmetry_equiv_pos_as_xyz
 'x, y, z'
loop_
 _atom_site_label
 _atom_site_type_symbol
 _atom_site_fract_x
 _atom_site_fract_y
 _atom_site_fract_z
 _atom_site_occupancy
 Na1 Na 0 0 0 0.5
 Cl1 Cl 0.5 0.5 0.5 1
"""

NO_SITES_CIF = """data_empty
_cell_length_a 5
_cell_length_b 5
_cell_length_c 5
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
"""


def _rocksalt() -> Structure:
    return Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


# --- formulas -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ba0.6K0.4Fe2As2", {"Ba": 0.6, "K": 0.4, "Fe": 2, "As": 2}),
        ("YBa2Cu3O6.95", {"Y": 1, "Ba": 2, "Cu": 3, "O": 6.95}),
        ("La1.85Sr0.15CuO4", {"La": 1.85, "Sr": 0.15, "Cu": 1, "O": 4}),
        ("Ca10(Ir4As8)(Fe2As2)5", {"Ca": 10, "Ir": 4, "As": 18, "Fe": 10}),
        ("(Ba0.6K0.4)Fe2As2", {"Ba": 0.6, "K": 0.4, "Fe": 2, "As": 2}),
        ("[Ca(Fe2)2]3O", {"Ca": 3, "Fe": 12, "O": 1}),
        ("  MgB2\n", {"Mg": 1, "B": 2}),
        ("Ba Fe2 As2", {"Ba": 1, "Fe": 2, "As": 2}),
        ("1T-TaS2", {"Ta": 1, "S": 2}),
        ("2H-NbSe2", {"Nb": 1, "Se": 2}),
    ],
)
def test_parse_formula_amounts(text, expected):
    composition = parse_formula(text)
    assert isinstance(composition, Composition)
    assert {str(el): amt for el, amt in composition.items()} == pytest.approx(expected)


def test_parse_formula_single_amounts():
    assert parse_formula("Ba0.6K0.4Fe2As2")["K"] == pytest.approx(0.4)
    assert parse_formula("YBa2Cu3O6.95")["O"] == pytest.approx(6.95)
    assert parse_formula("Ca10(Ir4As8)(Fe2As2)5")["As"] == pytest.approx(8 + 2 * 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The formula is empty"),
        ("   \t", "The formula is empty"),
        ("Xx2O3", "Unknown element 'Xx' in 'Xx2O3'"),
        ("Xx2", "Unknown element 'Xx'"),
        ("Hello", "Unknown element 'Hello'"),
        ("Sm1Ba-1Cu3O6.94", r"Amounts must be positive: 'Sm1Ba-1Cu3O6\.94' has a negative amount"),
        ("La2Sr0Cu0.8Zn0.2O4", "Amounts must be positive: .* zero amount for Sr"),
        ("(Fe2)0O", "zero amount for a bracketed group"),
        ("hello world", "'hello world' is not a chemical formula"),
        ("hello", "'hello' is not a chemical formula"),
        ("O10=z", "unexpected '='"),
        ("Y2C2Br0.5!1.5", "unexpected '!'"),
        ("Fe1e2", "unexpected 'e'"),
        ("Fe2O3+", r"oxidation states .*'\+'"),
        ("Fe2+", "oxidation states"),
        ("O2-", "oxidation states"),
        ("NaCl.H2O", r"Hydrate/adduct notation \('\.'\)"),
        ("CuSO4·5H2O", "Hydrate/adduct notation"),
        ("2H2O", "the number '2' does not follow an element"),
        ("()", "contains no elements"),
        ("Fe()O", "empty brackets"),
        ("(Ba0.6K0.4Fe2As2", "brackets .* do not match"),
        ("(Fe2]O3", "brackets .* do not match"),
        ("Fe20000", "amount of Fe .* 20000; the limit is 10000"),
        ("(Fe100)200O", "amount of Fe"),
    ],
)
def test_parse_formula_errors(text, message):
    with pytest.raises(InputError, match=message):
        parse_formula(text)


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)


# --- structures -----------------------------------------------------------------------------------


def test_cif_keeps_partial_occupancy():
    structure = read_structure(NACL_HALF_NA_CIF)
    assert not structure.is_ordered
    assert len(structure) == 2
    assert structure.composition["Na"] == pytest.approx(0.5)
    assert structure.composition["Cl"] == pytest.approx(1.0)
    assert structure.lattice.a == pytest.approx(5.64)


def test_cif_with_two_blocks_takes_the_first():
    second = NACL_HALF_NA_CIF.replace("data_NaCl", "data_KCl").replace("Na1 Na", "K1 K")
    structure = read_structure(NACL_HALF_NA_CIF + second)
    assert structure.composition["Na"] == pytest.approx(0.5)
    assert "K" not in structure.composition


def test_cif_from_bytes_with_filename():
    structure = read_structure(NACL_HALF_NA_CIF.encode(), filename="upload/NaCl.CIF")
    assert structure.composition["Na"] == pytest.approx(0.5)


def test_cif_round_trip_keeps_occupancy():
    structure = read_structure(NACL_HALF_NA_CIF)
    again = read_structure(structure_to_cif(structure), fmt="cif")
    assert again.composition == structure.composition
    assert again.lattice.abc == pytest.approx(structure.lattice.abc)


def test_poscar_round_trip():
    structure = _rocksalt()
    text = Poscar(structure).get_str()
    for kwargs in ({}, {"filename": "POSCAR"}, {"filename": "NaCl.vasp"}, {"fmt": "poscar"}):
        again = read_structure(text, **kwargs)
        assert again.lattice.matrix == pytest.approx(structure.lattice.matrix)
        assert [site.specie for site in again] == [Element("Na"), Element("Cl")]
        assert again.frac_coords == pytest.approx(structure.frac_coords)


def test_poscar_without_element_line_is_rejected():
    lines = Poscar(_rocksalt()).get_str().splitlines()
    del lines[5]  # the "Na Cl" symbols line: pymatgen would silently guess H and He
    with pytest.raises(InputError, match="no line of element symbols"):
        read_structure("\n".join(lines), fmt="poscar")


def test_oversized_file_rejected_before_parsing():
    with pytest.raises(InputError, match=r"The file is 5\.1 MB; the limit is 5 MB"):
        read_structure(b"x" * (MAX_FILE_BYTES + 1))


def test_too_many_sites():
    big = Structure(Lattice.cubic(3.0), ["Cu"], [[0, 0, 0]]) * (9, 9, 9)
    assert len(big) > MAX_SITES
    with pytest.raises(InputError, match=r"The structure has 729 sites; the limit is 500"):
        read_structure(structure_to_cif(big))


def test_cif_without_sites():
    with pytest.raises(InputError, match="Could not read .* from this CIF: it contains no atomic sites"):
        read_structure(NO_SITES_CIF)


def test_cif_with_incomplete_cell():
    text = NACL_HALF_NA_CIF.replace("_cell_angle_gamma   90\n", "")
    with pytest.raises(InputError, match="_cell_angle_gamma missing"):
        read_structure(text)


def test_cif_with_unknown_element():
    text = NACL_HALF_NA_CIF.replace("Na1 Na", "Qq1 Qq")
    with pytest.raises(InputError, match="Unknown element 'Qq'"):
        read_structure(text)


def test_cif_with_occupancy_above_one():
    text = NACL_HALF_NA_CIF.replace("0 0 0 0.5", "0 0 0 1.5")
    with pytest.raises(InputError, match="occupancy of 1.5"):
        read_structure(text)


@pytest.mark.parametrize("fmt", ["cif", "poscar"])
def test_garbage_text_as_structure(fmt):
    with pytest.raises(InputError, match=f"Could not read a crystal structure from this {fmt.upper()}"):
        read_structure("hello world\nthis is not a crystal\n", fmt=fmt)


def test_empty_file():
    with pytest.raises(InputError, match="The file is empty"):
        read_structure(b"  \n")


# --- ids and the single input box -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["mp-149", " MP-1234 ", "mvc-12"])
def test_is_mp_id_true(text):
    assert is_mp_id(text)


@pytest.mark.parametrize("text", ["mp-", "mp-12a", "149", "mp 149", "Fe2O3", "mpx-1"])
def test_is_mp_id_false(text):
    assert not is_mp_id(text)


def test_parse_input_dispatch():
    assert isinstance(parse_input("La1.85Sr0.15CuO4"), Composition)
    assert isinstance(parse_input(NACL_HALF_NA_CIF), Structure)
    poscar = Poscar(_rocksalt()).get_str()
    assert parse_input(poscar).composition == _rocksalt().composition
    with pytest.raises(InputError, match="not a chemical formula"):
        parse_input("hello world")


def test_parse_input_poscar_with_empty_comment_line():
    poscar = "\n" + Poscar(_rocksalt()).get_str().split("\n", 1)[1]
    assert parse_input(poscar).composition == _rocksalt().composition
