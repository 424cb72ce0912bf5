"""Tests for sc_core.io: formulas, CIF/POSCAR reading and the single input box."""

import tracemalloc

import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Element, Lattice, Structure
from pymatgen.io.cif import CifParser, CifWriter
from pymatgen.io.vasp import Poscar

from sc_core.io import (
    EXCERPT_CHARS,
    MAX_FILE_BYTES,
    MAX_SITES,
    InputError,
    check_composition,
    check_structure,
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


def _cif(cell: str = "5.64 5.64 5.64 90 90 90", sites: str = " Na1 Na 0 0 0 1\n Cl1 Cl 0.5 0.5 0.5 1\n",
         ops: tuple[str, ...] = ("x, y, z",)) -> str:
    """A small CIF with the given cell (a b c alpha beta gamma), site rows and symmetry operations."""
    tags = ["_cell_length_a", "_cell_length_b", "_cell_length_c", "_cell_angle_alpha", "_cell_angle_beta",
            "_cell_angle_gamma"]
    header = "".join(f"{tag} {value}\n" for tag, value in zip(tags, cell.split()))
    symmetry = "loop_\n _symmetry_equiv_pos_as_xyz\n" + "".join(f" '{op}'\n" for op in ops)
    return (f"data_test\n{header}{symmetry}loop_\n _atom_site_label\n _atom_site_type_symbol\n"
            f" _atom_site_fract_x\n _atom_site_fract_y\n _atom_site_fract_z\n _atom_site_occupancy\n{sites}")


def _poscar(scale: str = "1.0", lattice: str = "5.64 0 0\n0 5.64 0\n0 0 5.64", symbols: str = "Na Cl",
            counts: str = "1 1", coords: str = "0 0 0\n0.5 0.5 0.5") -> str:
    return f"test\n{scale}\n{lattice}\n{symbols}\n{counts}\nDirect\n{coords}\n"


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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Fe0.000000001", "amount of Fe in 'Fe0.000000001' is 1e-09; amounts below 0.0001"),
        ("Fe0.000000001Ni", "amount of Fe .* is 1e-09"),  # read as Ni before
        ("Fe(III)", r"Oxidation states such as '\(III\)' are not supported"),  # read as FeI3 before
        ("Fe(II)Cl2", r"Oxidation states such as '\(II\)'"),
        ("Zr0\uff19935", "character '\uff19' in a number: type amounts with the digits 0-9"),  # read as Zr9935
        ("Zn20 .3", "A space splits the number '20 .3'"),  # read as Zn20.3
        ("Fe2 3O", "A space splits the number '2 3'"),
        ("Nb3S n", "A space splits the element symbol 'S n'"),  # read as Nb3Sn before
        ("M\tgB2", "A space splits the element symbol"),  # read as MgB2 before
        ("HgBaCa2Cu(IV)3O8", r"Oxidation states such as '\(IV\)'"),  # read with I3 V3 before (fuzz suite)
        ("Ba0.6(II)0.4Fe2As2", r"Oxidation states such as '\(II\)'"),
    ],
)
def test_formulas_that_would_lose_or_change_elements_are_refused(text, message):
    with pytest.raises(InputError, match=message):
        parse_formula(text)


def test_iodine_in_brackets_with_an_amount_is_still_read():
    assert parse_formula("Cs(I)3")["I"] == pytest.approx(3)


def test_messages_quote_only_an_excerpt_of_long_input():
    long = "Fe2O3" + "x" * 300_000
    with pytest.raises(InputError) as info:
        parse_formula(long)
    assert len(str(info.value)) < EXCERPT_CHARS + 150
    assert "300,005 characters" in str(info.value)
    with pytest.raises(InputError) as info:
        parse_formula("Qq" + "q" * 100_000)
    assert len(str(info.value)) < EXCERPT_CHARS + 150


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        ({"Fe": float("inf"), "O": 1}, "amount of Fe in the composition is infinite"),
        ({"Fe": -1, "O": 1}, "Amounts must be positive: the amount of Fe in the composition is -1"),
        ({"Fe": 1e-6, "O": 1}, "amount of Fe in the composition is 1e-06; amounts below 0.0001"),
    ],
)
def test_check_composition_refuses_impossible_amounts(amounts, message):
    with pytest.raises(InputError, match=message):
        check_composition(Composition(amounts, allow_negative=True))
    check_composition(Composition({"Fe": 2, "O": 3}))  # a real one passes


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


def test_cif_export_is_symmetrised_with_a_label_per_row():
    """A primitive La2CuO4 cell and a disordered La1.85Sr0.15CuO4 one: P1 CIFs repeated labels (two rows for
    the La/Sr site, both 'Sr:0.075, La:0.925_1')."""
    conventional = Structure.from_spacegroup("I4/mmm", Lattice.tetragonal(3.81, 13.2), ["La", "Cu", "O", "O"],
                                             [[0, 0, 0.361], [0, 0, 0], [0, 0.5, 0], [0, 0, 0.186]])
    primitive = conventional.get_primitive_structure()
    doped = primitive.copy()
    doped.replace_species({Element("La"): {"La": 0.925, "Sr": 0.075}})
    for structure in (primitive, doped):
        assert len(structure) == 7
        cif = structure_to_cif(structure)
        block = next(iter(CifParser.from_str(cif).as_dict().values()))
        labels = block["_atom_site_label"]
        assert len(labels) == len(set(labels)) == 4 + (structure is doped)
        assert block["_symmetry_space_group_name_H-M"] == "I4/mmm"
        assert StructureMatcher().fit(read_structure(cif, fmt="cif"), structure)


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
        read_structure(str(CifWriter(big)))


def test_cif_without_sites():
    with pytest.raises(InputError, match="Could not read .* from this CIF: it contains no atomic sites"):
        read_structure(NO_SITES_CIF)


def test_cif_with_incomplete_cell():
    text = NACL_HALF_NA_CIF.replace("_cell_angle_gamma   90\n", "")
    with pytest.raises(InputError, match="_cell_angle_gamma missing"):
        read_structure(text)


def test_cif_with_unknown_element():
    text = NACL_HALF_NA_CIF.replace("Na1 Na", "Qq1 Qq")
    with pytest.raises(InputError, match="'Qq', which is not a chemical element"):
        read_structure(text)


def test_cif_with_occupancy_above_one():
    text = NACL_HALF_NA_CIF.replace("0 0 0 0.5", "0 0 0 1.5")
    with pytest.raises(InputError, match="occupancy of 1.5"):
        read_structure(text)


def test_small_cif_and_poscar_helpers_read():
    assert read_structure(_cif()).composition == _rocksalt().composition
    assert read_structure(_poscar(), fmt="poscar").composition == _rocksalt().composition


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("inf 4 4 90 90 90", "The cell length a is infinite"),  # spglib segfaulted on it
        ("4 nan 4 90 90 90", "The cell length b is not a number"),
        ("4 4 0 90 90 90", "The cell length c is 0 Å; cell lengths must be positive"),
        ("-4 4 4 90 90 90", "The cell length a is -4 Å"),
        ("0.01 4 4 90 90 90", "cell length a is 0.01 Å: every atom would be that close to its copy"),
        ("1e6 4 4 90 90 90", "The cell length a is 1e\\+06 Å; the limit is 1000 Å"),
        ("4 4 4 90 90 0", "The cell angle gamma is 0°"),
        ("4 4 4 120 120 120", "give a cell of zero volume"),
        ("4 4 4 abc 90 90", "The cell angle alpha is 'abc', which is not a number"),
    ],
)
def test_impossible_cif_cells_are_refused_before_parsing(cell, message, monkeypatch):
    monkeypatch.setattr("pymatgen.io.cif.CifParser.parse_structures", lambda *a, **k: pytest.fail("parsed"))
    with pytest.raises(InputError, match=message):
        read_structure(_cif(cell))


@pytest.mark.parametrize(
    ("sites", "message"),
    [
        (" Au1 Au 0 0 0 0\n Sn1 Sn 0.5 0.5 0.5 1\n", "occupancy of site 'Au1' is 0"),  # read as Sn before
        (" Au1 Au 0 0 0 -0.5\n Sn1 Sn 0.5 0.5 0.5 1\n", "occupancy of site 'Au1' is -0.5"),
        (" Au1 Au 0 0 0 nan\n Sn1 Sn 0.5 0.5 0.5 1\n", "occupancy of site 'Au1' is not a number"),
        (" Au1 Au 0 0 0 1e-30\n Sn1 Sn 0.5 0.5 0.5 1\n", "occupancy of site 'Au1' is 1e-30"),
        (" Va1 Vac 0 0 0 1\n Sn1 Sn 0.5 0.5 0.5 1\n", "'Vac', which is not a chemical element"),  # read as V
        (" X1 Uue 0 0 0 1\n Sn1 Sn 0.5 0.5 0.5 1\n", "'Uue', which is not a chemical element"),  # read as U
    ],
)
def test_sites_pymatgen_would_drop_or_rewrite_are_refused(sites, message):
    with pytest.raises(InputError, match=message):
        read_structure(_cif(sites=sites))


def test_site_explosion_is_refused_before_expansion(monkeypatch):
    """400 general positions × 48 operations would be 19,200 sites (38 s in pymatgen)."""
    ops = tuple(f"{sx}{x}, {sy}{y}, {sz}{z}" for x, y, z in ["xyz", "yzx", "zxy", "yxz", "xzy", "zyx"]
                for sx in "+-" for sy in "+-" for sz in "+-")
    rows = "".join(f" Cu{i} Cu {0.011 + i * 0.0011:.4f} {0.0213 + i * 0.0007:.4f} {0.0331 + i * 0.0003:.4f} 1\n"
                   for i in range(400))
    monkeypatch.setattr("pymatgen.io.cif.CifParser.parse_structures", lambda *a, **k: pytest.fail("expanded"))
    with pytest.raises(InputError, match=r"has \d{3} sites or more once its symmetry operations are applied"):
        read_structure(_cif("60 60 60 90 90 90", rows, ops))
    with pytest.raises(InputError, match="lists 200 symmetry operations; a space group has at most 192"):
        read_structure(_cif(ops=("x, y, z",) * 200))


def test_site_count_estimate_merges_special_positions():
    """Fm-3m with 192 operations: Na and Cl on special positions give 4 + 4 sites, not 2 × 192."""
    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    text = str(__import__("pymatgen.io.cif", fromlist=["CifWriter"]).CifWriter(nacl, symprec=0.1))
    assert "_symmetry_equiv_pos_as_xyz" in text and len(read_structure(text)) == 8


@pytest.mark.parametrize(
    ("poscar", "message"),
    [
        (_poscar(scale="-1"), "scale factor .* is -1: a negative scale"),
        (_poscar(scale="0"), "scale factor .* is '0'; it must be a positive number"),
        (_poscar(scale="nan"), "scale factor .* is 'nan'"),
        (_poscar(counts="100000000 1"), "lists 100,000,001 atoms; the limit is 500"),
        (_poscar(scale="0.01"), "cell length a is 0.0564 Å"),  # 54-byte POSCAR that ate 4 GB with crystal_graph
        (_poscar(lattice="5 0 0\n0 5 0\n5 5 0"), "give a cell of zero volume"),  # ZeroDivisionError before
        (_poscar(lattice="inf 0 0\n0 5 0\n0 0 5"), "The cell length a is"),
        (_poscar(coords="0 0 0\n0.02 0 0"), r"Atoms 1 \(Na\) and 2 \(Cl\) are 0.11 Å apart; the closest physical"),
        (_poscar(lattice="0.6 0 0\n0 40 0\n0 0 40", counts="1 0", coords="0 0 0"), ""),  # valid: 0.6 Å apart
        (_poscar(symbols="Uue Cl", counts="0 1", coords="0 0 0"), "names 'Uue' .line 6., which is not a chemical"),
        (_poscar(symbols="Na_pv Cl", counts="1 0", coords="0 0 0"), ""),  # VASP potential name: still Na
    ],
)
def test_impossible_poscars_are_refused(poscar, message):
    if not message:
        assert len(read_structure(poscar, fmt="poscar")) == 1
        return
    with pytest.raises(InputError, match=message):
        read_structure(poscar, fmt="poscar")


@pytest.mark.parametrize(
    ("structure", "message"),
    [
        (Structure(Lattice.cubic(3.0), ["Cu", "Cu"], [[0, 0, 0], [0.05, 0, 0]]), "Atoms 1 .* are 0.15 Å apart"),
        (Structure(Lattice.cubic(3.0), ["Cu", "Cu"], [[0, 0, 0], [0, 0, 0]]), "Atoms 1 .* are 0.00 Å apart"),
        (Structure(Lattice([[10, 0, 0], [0, 10, 0], [9.7, 0, 0.2]]), ["Cu"], [[0, 0, 0]]),
         r"Atom 1 \(Cu\) is 0.3\d Å from its own copy in the next cell"),  # skewed: no short cell length
        (Structure(Lattice.cubic(3.0), [{"Cu": 0.5}], [[0, 0, 0]]), None),  # partial occupancy: fine
        (Structure(Lattice.cubic(3.0), [{"Cu": 0.5}, {"Cu": 0.5}], [[0, 0, 0], [0.05, 0, 0]]), None),  # split site
        (Structure(Lattice.cubic(3.0), [{"Cu": 0.7}, {"Cu": 0.5}], [[0, 0, 0], [0.05, 0, 0]]), "are 0.15 Å apart"),
        (Structure(Lattice.cubic(3.0), [{"Cu": 1e-30}], [[0, 0, 0]]), "Atom 1 holds no element"),
        (Structure(Lattice.cubic(3.0), [{"Cu": 1e-6}], [[0, 0, 0]]), "occupancy of atom 1 .Cu. is 1e-06"),
        (Structure(Lattice.cubic(3.0), ["Cu"], [[float("nan"), 0, 0]]), "coordinates of atom 1 are not finite"),
        (Structure(Lattice.cubic(0.9), ["H"], [[0, 0, 0]]), "0.729 Å³ per atom; real solids have between 1"),
        (Structure(Lattice.cubic(3.0), ["X"], [[0, 0, 0]]), "Unknown element 'X' in the structure"),
        (Structure(Lattice.cubic(3.0), ["Au", "Sn"], [[1e300, 0.5, 0.5], [0, 0, 0]]), "Atom 1 lies at fractional"),
        (Structure(Lattice.cubic(3.0), ["Au", "Sn"], [[1000, 0.5, 0.5], [0, 0, 0]]), "outside -1 to 2"),
        (Structure(Lattice.cubic(3.0), ["Au", "Sn"], [[1.5, 0.5, 0.5], [-0.2, 0, 0]]), None),  # near images: fine
    ],
)
def test_check_structure(structure, message):
    if message is None:
        check_structure(structure)
        return
    with pytest.raises(InputError, match=message):
        check_structure(structure)


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


def test_bytes_that_are_not_utf8_are_refused_not_dropped():
    cif = structure_to_cif(_rocksalt()).replace(" Na ", " \x00Na ", 1).encode().replace(b"\x00", b"\xff")
    with pytest.raises(InputError, match="not plain text: byte .* is not valid UTF-8"):
        read_structure(cif, fmt="cif")


def test_distance_check_is_bounded_on_a_long_cell():
    """A 1,000 Å cell: pymatgen's neighbour search allocated 5 GB for this check; the blocked one needs a few MB."""
    lattice = Lattice.orthorhombic(6.0, 1000.0, 10.0)
    coords = [[0, y, 0] for y in (0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8)] + [[0.5, 0.5, 0.5], [0.5, 0.5, 0.50001]]
    structure = Structure(lattice, ["Ge"] * 9, coords)
    tracemalloc.start()
    with pytest.raises(InputError, match=r"Atoms 8 \(Ge\) and 9 \(Ge\) are 0.00 Å apart"):
        check_structure(structure)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50e6


def test_a_site_symbol_with_a_foreign_character_is_refused():
    cif = structure_to_cif(_rocksalt()).replace("  Na  ", "  N\ufffda  ", 1)
    assert "N\ufffda" in cif  # pymatgen alone strips the character and reads Na
    with pytest.raises(InputError, match="atom-site row 'N.a Na0.* holds a character that is not plain text"):
        read_structure(cif, fmt="cif")
