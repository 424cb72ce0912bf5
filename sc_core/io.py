"""Turn user text (formulas, CIF, POSCAR) into pymatgen objects.

Every problem with user input is raised as :class:`InputError`, whose message is meant to be shown
to a chemist as is.

Formula conventions (see :func:`parse_formula`):

* Fractional and doped amounts (``Ba0.6K0.4Fe2As2``), round and square brackets, nesting.
* A polytype prefix is dropped: ``1T-TaS2`` and ``2H-NbSe2`` read as ``TaS2`` and ``NbSe2``.
* ``D`` and ``T`` are read as hydrogen (pymatgen's convention).
* Whitespace inside a formula is ignored (``Ba Fe2 As2``).
* Rejected: charges/oxidation states (``Fe2+``), hydrate/adduct notation (``NaCl.H2O``,
  ``CuSO4·5H2O``), amounts without a leading digit (``Fe.5``), leading coefficients (``2H2O``),
  scientific notation (``Fe1e2``), zero or negative amounts, amounts below :data:`MIN_AMOUNT` (they would
  vanish from the composition) or above :data:`MAX_AMOUNT`, Roman-numeral oxidation states (``Fe(III)``),
  digits other than 0-9 (``Zr0９935``) and a space inside a number (``Zn20 .3``).
  ``CuSO4.5H2O`` cannot be told apart from a decimal and reads as ``CuSO4.5`` + ``H2O``.

Structures (see :func:`check_structure`): every structure read, or given to a model directly, must be a
possible crystal before any native code (spglib, neighbour search) sees it. Problems that pymatgen would
silently drop or rewrite (zero/NaN occupancies, ``Vac`` read as V, cells of 0 or inf Å, CIFs whose symmetry
expands to thousands of sites) are refused on the raw CIF/POSCAR text, before pymatgen parses it.

pymatgen's CIF and POSCAR modules are imported by the functions that use them: they take most of a second (scipy),
and a formula needs neither.
"""

from __future__ import annotations

import itertools
import lzma
import math
import re
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from pathlib import Path, PurePath
from typing import IO

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Element, Structure
from pymatgen.core.operations import SymmOp
from pymatgen.core.periodic_table import DummySpecies

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_SITES = 500
MAX_AMOUNT = 1e4
MIN_AMOUNT = 1e-4  # smallest formula amount; SuperCon's smallest is 2e-4, pymatgen drops amounts below 1e-8
OCCUPANCY_TOLERANCE = 1.05  # site occupancies up to this are rounding noise and scaled to 1 (CIF reading)
SITE_OCCUPANCY_SLACK = 1e-3  # a site's occupancies may add up to 1 + this (rounding of the scaled values)
MIN_OCCUPANCY = 1e-4  # smallest site occupancy; the bundled 3DSC CIFs go down to 1e-3
DISTANCE_ROWS = 32  # sites per block of the distance check (32 x 500 x 27 images: 10 MB)
MAX_FRACTIONAL_OFFSET = 1.0  # cells: fractional coordinates must lie in [-1, 2]
MIN_DISTANCE = 0.5  # Å: closest physical distance between two atoms (H-H in H2 is 0.74 Å)
MAX_CELL_LENGTH = 1000.0  # Å: 500 sites at MAX_VOLUME_PER_ATOM fill a cube of 171 Å; 1e5-1e6 Å cells are typos
# Å^3 per site. Below: the densest solids (metallic hydrides at megabar pressure, diamond) have 2-6, and the
# bound caps the density of every neighbour search (500 sites within 8 Å: about 1e6 pairs). Above: bundled
# 3DSC cells with vacuum layers reach 3,700 (mp-1068462); far beyond that a cell is no solid.
MIN_VOLUME_PER_ATOM, MAX_VOLUME_PER_ATOM = 1.0, 10_000.0
MAX_SYMMETRY_OPERATIONS = 192  # the most of any space group (Fm-3m, Im-3m... in the conventional cell)
CIF_SITE_TOLERANCE = 1e-4  # fractional: symmetry images closer than this are one site (pymatgen's default)
SYMPREC = 0.01  # Å, spglib tolerance: equivalent sites, Wyckoff positions, the space group of a written CIF
EXCERPT_CHARS = 40  # messages quote at most this much of the user's input

_TOKEN = re.compile(r"(?P<symbol>[A-Z][a-z]*)|(?P<open>[(\[])|(?P<close>[)\]])|(?P<number>\d+(?:\.\d+)?)",
                    re.ASCII)
_POLYTYPE = re.compile(r"^\d+[A-Z][a-z]?'?-(?=[A-Z(\[])", re.ASCII)
# Fe(III), Cu(IV)3: oxidation states; a lone (I) or (V) followed by an amount is iodine or vanadium
_ROMAN_OXIDATION = re.compile(r"[(\[](?:II|III|IV|VI{1,3}|IX)[)\]]|[(\[][IV][)\]](?![0-9])")
_SPLIT_NUMBER = re.compile(r"[0-9.]+\s+[0-9.]+")  # Zn20 .3: a space inside a number
_SPLIT_SYMBOL = re.compile(r"[A-Z]\s+[a-z]")  # Nb3S n, M<tab>gB2: a space inside an element symbol
_CIF_MARKER = re.compile(r"^\s*data_|_cell_length_a", re.MULTILINE)
_MP_ID = re.compile(r"(mp|mvc)-\d+", re.IGNORECASE)
_BRACKET_PAIRS = {"(": ")", "[": "]"}
_SYMBOLS = frozenset(Element.__members__)
_CELL_TAGS = (
    "_cell_length_a",
    "_cell_length_b",
    "_cell_length_c",
    "_cell_angle_alpha",
    "_cell_angle_beta",
    "_cell_angle_gamma",
)
_SYMMETRY_TAGS = ("_symmetry_equiv_pos_as_xyz", "_space_group_symop_operation_xyz",
                  "_space_group_symop.operation_xyz")


class InputError(ValueError):
    """Bad user input; the message is written for the user."""


def excerpt(text: object, limit: int = EXCERPT_CHARS) -> str:
    """`text` for a message or a table cell: whitespace runs shown as one space; beyond `limit` characters, its
    start and end with its length."""
    shown = " ".join(str(text).split())
    if len(shown) > limit:
        shown = f"{shown[: limit - 12]}…{shown[-10:]} ({len(shown):,} characters)"
    return shown


def quote(text: object) -> str:
    """:func:`excerpt` of `text` in quotes, as messages echo user input."""
    return f"'{excerpt(text)}'"


def parse_formula(text: str) -> Composition:
    """Parse a chemical formula such as ``YBa2Cu3O6.95`` or ``Ca10(Ir4As8)(Fe2As2)5``."""
    original = text.strip()
    if not original:
        raise InputError("The formula is empty.")
    if digit := next((char for char in original if char.isnumeric() and not char.isascii()), None):
        raise InputError(f"{quote(original)} has the character '{digit}' in a number: type amounts with the "
                         "digits 0-9.")
    if split := _SPLIT_NUMBER.search(original):
        raise InputError(f"A space splits the number {quote(split.group())} in {quote(original)}; "
                         "write amounts without spaces.")
    if split := _SPLIT_SYMBOL.search(original):
        raise InputError(f"A space splits the element symbol {quote(split.group())} in {quote(original)}; "
                         "write symbols without spaces.")
    if roman := _ROMAN_OXIDATION.search(original):
        raise InputError(f"Oxidation states such as {quote(roman.group())} are not supported: "
                         f"remove them from {quote(original)}.")
    formula = re.sub(r"\s+", "", _POLYTYPE.sub("", original))
    amounts = _amounts(formula, original)
    _check_amounts(amounts, f"in {quote(original)}")
    return Composition(amounts)


def check_composition(composition: Composition) -> None:
    """InputError unless every amount of `composition` is a finite number in [MIN_AMOUNT, MAX_AMOUNT].

    pymatgen itself drops NaN amounts and amounts below 1e-8 when a Composition is built, so those are gone.
    """
    if not composition.elements:
        raise InputError("The composition is empty.")
    for species in composition:
        if isinstance(species, DummySpecies):
            raise InputError(f"Unknown element {quote(species.symbol)} in the composition.")
    _check_amounts({str(species): amount for species, amount in composition.items()}, "in the composition")


def _check_amounts(amounts: dict[str, float], where: str) -> None:
    """InputError for an amount that is not finite, not positive, or outside [MIN_AMOUNT, MAX_AMOUNT]."""
    for element, amount in amounts.items():
        if not math.isfinite(amount):
            problem = "not a number" if math.isnan(amount) else "infinite"
            raise InputError(f"The amount of {element} {where} is {problem}.")
        if amount <= 0:
            raise InputError(f"Amounts must be positive: the amount of {element} {where} is {amount:g}.")
        if amount > MAX_AMOUNT:
            raise InputError(f"The amount of {element} {where} is {amount:g}; the limit is {MAX_AMOUNT:g}.")
        if amount < MIN_AMOUNT:
            raise InputError(f"The amount of {element} {where} is {amount:g}; amounts below {MIN_AMOUNT:g} "
                             "cannot be told from zero.")


def _amounts(formula: str, original: str) -> dict[str, float]:
    """Symbol → amount with brackets expanded, in one validating pass; InputError on any problem."""
    groups: list[dict[str, float]] = [{}]  # one dict per open bracket level, plus the top level
    open_brackets: list[str] = []
    previous_kind: str | None = ""
    previous_token = ""
    pending: str | dict[str, float] | None = None  # last symbol or closed group, waiting for an optional amount
    pos = 0
    while pos < len(formula):
        match = _TOKEN.match(formula, pos)
        if match is None:
            raise InputError(_bad_character_message(formula, pos, original))
        kind, token = match.lastgroup, match.group()
        if kind == "number":
            if previous_kind not in ("symbol", "close"):
                raise InputError(f"{quote(original)} is not a chemical formula: the number {quote(token)} does not "
                                 "follow an element.")
            amount = float(token)
            if amount == 0:
                where = previous_token if previous_kind == "symbol" else "a bracketed group"
                raise InputError(f"Amounts must be positive: {quote(original)} has a zero amount for {where}.")
            _flush(groups[-1], pending, amount)
            pending = None
        else:
            _flush(groups[-1], pending, 1.0)
            pending = None
            if kind == "symbol":
                if token not in _SYMBOLS:
                    raise InputError(f"Unknown element {quote(token)} in {quote(original)}.")
                pending = token
            elif kind == "open":
                open_brackets.append(token)
                groups.append({})
            else:
                if not open_brackets or _BRACKET_PAIRS[open_brackets.pop()] != token:
                    raise InputError(f"The brackets in {quote(original)} do not match.")
                inner = groups.pop()
                if not inner:
                    problem = "has empty brackets" if re.search("[A-Z]", formula) else "contains no elements"
                    raise InputError(f"{quote(original)} {problem}.")
                pending = inner
        previous_kind, previous_token = kind, token
        pos = match.end()
    if open_brackets:
        raise InputError(f"The brackets in {quote(original)} do not match.")
    _flush(groups[-1], pending, 1.0)
    return groups[0]


def _flush(group: dict[str, float], pending: str | dict[str, float] | None, amount: float) -> None:
    if pending is None:
        return
    if isinstance(pending, str):
        group[pending] = group.get(pending, 0.0) + amount
    else:
        for symbol, inner in pending.items():
            group[symbol] = group.get(symbol, 0.0) + inner * amount


def _bad_character_message(formula: str, pos: int, original: str) -> str:
    """Explain why the character at `pos` cannot start a formula token."""
    char, preceding, following = formula[pos], formula[pos - 1 : pos], formula[pos + 1 : pos + 2]
    if char == "-" and pos > 0 and following.isdigit():
        return f"Amounts must be positive: {quote(original)} has a negative amount."
    if char == "+" or (char == "-" and not following):
        return f"Charges and oxidation states are not supported: remove the '{char}' from {quote(original)}."
    if char in "·•*" or (char == "." and (preceding.isalpha() or preceding in (")", "]"))):
        return (
            f"Hydrate/adduct notation ('{char}') is not supported in {quote(original)}; "
            "write it as one formula with the amounts added up."
        )
    if pos == 0:
        return f"{quote(original)} is not a chemical formula."
    return f"{quote(original)} is not a chemical formula: unexpected '{char}'."


def read_structure(data: str | bytes, filename: str | None = None, fmt: str | None = None) -> Structure:
    """Read a crystal structure from CIF or POSCAR text.

    `fmt` is ``"cif"``, ``"poscar"`` or None to guess from `filename`, then from the content.
    Partial occupancies are kept; of several structures in a CIF the first is returned.
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise InputError(f"The file is {_megabytes(size)} MB; the limit is {MAX_FILE_BYTES // 2**20} MB.")
    text = _decode(data) if isinstance(data, bytes) else data
    if not text.strip():
        raise InputError("The file is empty.")
    fmt = (fmt or _guess_format(text, filename)).lower()
    if fmt == "cif":
        structure = _read_cif(text)
    elif fmt == "poscar":
        structure = _read_poscar(text)
    else:
        raise ValueError(f"fmt must be 'cif', 'poscar' or None, not {fmt!r}")

    check_structure(structure)
    return structure


def _decode(data: bytes) -> str:
    """The text of a file; InputError for bytes that are not UTF-8 (CIF and POSCAR are ASCII text), rather than
    letting a damaged byte next to an element symbol be dropped."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"The file is not plain text: byte {exc.start + 1:,} is not valid UTF-8. CIF and POSCAR "
                         "files are ASCII text; save the file as UTF-8.") from None


def _megabytes(size: int) -> str:
    """Size in MB rounded up to one decimal, so a file just over the limit never shows as the limit."""
    return f"{math.ceil(size / 2**20 * 10) / 10:.1f}"


def _guess_format(text: str, filename: str | None) -> str:
    """'cif' or 'poscar', from the file name if it tells, else from the content."""
    if filename:
        name = PurePath(filename).name
        if name.lower().endswith(".cif"):
            return "cif"
        if name.lower().endswith(".vasp") or name.upper().startswith(("POSCAR", "CONTCAR")):
            return "poscar"
    return "cif" if _CIF_MARKER.search(text) else "poscar"


def _read_cif(text: str) -> Structure:
    """First structure of a CIF, with pymatgen's warnings silenced; the raw text is checked first."""
    prefix = "Could not read a crystal structure from this CIF"
    lowered = text.lower()  # CIF tags are case-insensitive
    missing_cell_tags = [tag for tag in _CELL_TAGS if tag not in lowered]
    if len(missing_cell_tags) == len(_CELL_TAGS):
        raise InputError(f"{prefix}: it has no unit cell (no _cell_length_a, _cell_angle_alpha, ...).")
    if "_atom_site_fract_x" not in lowered and "_atom_site_cartn_x" not in lowered:
        raise InputError(f"{prefix}: it contains no atomic sites.")
    if missing_cell_tags:
        raise InputError(f"{prefix}: the unit cell is incomplete ({', '.join(missing_cell_tags)} missing).")
    block_text = _first_structure_block(text)
    _check_site_rows_are_ascii(block_text)
    from pymatgen.io.cif import CifBlock, CifParser

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            block = CifBlock.from_str(block_text)
            parser = CifParser.from_str(block_text, occupancy_tolerance=OCCUPANCY_TOLERANCE)
            fields = {key.lower(): value for key, value in block.data.items()}
            _check_cif_fields(fields, lambda: parser.get_symops(block))
            structures = parser.parse_structures(primitive=False, on_error="raise")
    except InputError:
        raise
    except Exception as exc:  # pymatgen raises many types (ValueError, KeyError, IndexError...)
        raise InputError(f"{prefix}: {_short_reason(exc)}") from exc
    return structures[0]


def _check_site_rows_are_ascii(block: str) -> None:
    """InputError for a character outside ASCII in the rows of an atom-site loop: pymatgen drops it, so a damaged
    symbol such as ``N?a`` would be read as Na."""
    in_sites = False
    for line in block.splitlines():
        stripped = line.strip()
        if stripped.lower().startswith("loop_"):
            in_sites = False
        elif stripped.startswith("_"):
            in_sites = stripped.lower().startswith("_atom_site")
        elif in_sites and not stripped.isascii():
            raise InputError(f"The atom-site row {quote(stripped)} holds a character that is not plain text; "
                             "CIF site rows are ASCII.")


def _first_structure_block(text: str) -> str:
    """The text of the first ``data_`` block with atomic sites (split as pymatgen's CifFile splits)."""
    for block in re.split(r"^\s*data_", f"x\n{text}", flags=re.MULTILINE)[1:]:
        lowered = block.lower()
        if "_atom_site_fract_x" in lowered or "_atom_site_cartn_x" in lowered:
            return f"data_{block}"
    raise InputError("Could not read a crystal structure from this CIF: no data_ block holds atomic sites.")


def _check_cif_fields(fields: dict, symmetry_operations: Callable[[], list]) -> None:
    """InputError for what pymatgen would parse wrongly or slowly: the cell, species, occupancies, site count."""
    cell = [_cif_number(fields.get(tag), tag.removeprefix("_").replace("_", " ")) for tag in _CELL_TAGS]
    _check_cell_parameters(cell[:3], cell[3:])
    labels = _cif_column(fields, "_atom_site_label")
    symbols = _cif_column(fields, "_atom_site_type_symbol") or labels
    for label, symbol in zip(labels, symbols):
        letters = re.split("[^A-Za-z]", symbol, maxsplit=1)[0].capitalize()
        if letters not in _SYMBOLS:
            raise InputError(f"The site {quote(label)} holds {quote(symbol)}, which is not a chemical element "
                             "(vacancies, dummy and placeholder atoms are not supported).")
    for label, occupancy in zip(labels, _cif_column(fields, "_atom_site_occupancy")):
        if occupancy.strip() != "?":  # unknown: pymatgen takes 1
            _check_occupancy(_cif_number(occupancy, f"occupancy of the site {quote(label)}"), f"site {quote(label)}")
    n_operations = max((len(_cif_column(fields, key)) for key in _SYMMETRY_TAGS), default=0)
    if n_operations > MAX_SYMMETRY_OPERATIONS:
        raise InputError(f"The CIF lists {n_operations:,} symmetry operations; a space group has at most "
                         f"{MAX_SYMMETRY_OPERATIONS}.")
    n_sites, expanded = _expanded_site_count(fields, symmetry_operations)
    if n_sites > MAX_SITES:
        by_symmetry = " or more once its symmetry operations are applied" if expanded else ""
        raise InputError(f"The structure has {n_sites:,} sites{by_symmetry}; the limit is {MAX_SITES}.")


def _cif_column(fields: dict, key: str) -> list[str]:
    """A CIF loop column as a list of strings (a single value as a list of one)."""
    value = fields.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def _cif_number(text: str | None, name: str) -> float:
    """A CIF number such as ``5.64(2)``; InputError naming the field if it is not one."""
    try:
        return float(re.sub(r"\(.*\)?$", "", str(text).strip()))
    except ValueError:
        raise InputError(f"The {name} is {quote(text)}, which is not a number.") from None


def _expanded_site_count(fields: dict, symmetry_operations: Callable[[], list]) -> tuple[int, bool]:
    """(sites after symmetry expansion, whether symmetry added any), computed before pymatgen expands them.

    Counting stops just past MAX_SITES. Rows at the same position (substitutional disorder) are one site.
    """
    if not fields.get("_atom_site_fract_x"):  # Cartesian sites: pymatgen reads them without symmetry
        return len(_cif_column(fields, "_atom_site_cartn_x")), False
    positions = {tuple(_cif_number(value, "atom site coordinate") for value in xyz)
                 for xyz in zip(*(_cif_column(fields, f"_atom_site_fract_{axis}") for axis in "xyz"))}
    if len(positions) > MAX_SITES:
        return len(positions), False
    operations = symmetry_operations() or [SymmOp.from_xyz_str("x, y, z")]
    if len(positions) * len(operations) <= MAX_SITES:
        return len(positions) * len(operations), len(operations) > 1
    rotations = np.array([op.rotation_matrix for op in operations])
    translations = np.array([op.translation_vector for op in operations])
    count = 0
    for position in positions:
        images = rotations @ np.array(position) + translations
        offsets = images[:, None] - images[None]
        same = (np.abs(offsets - np.round(offsets)) < CIF_SITE_TOLERANCE).all(axis=-1)
        count += int((~np.triu(same, 1)).all(axis=0).sum())  # images not equal to an earlier one
        if count > MAX_SITES:
            break
    return count, count > len(positions)


def _read_poscar(text: str) -> Structure:
    """Structure from POSCAR/CONTCAR text; the element-symbol line is required."""
    prefix = "Could not read a crystal structure from this POSCAR"
    lines = text.rstrip().splitlines()
    if len(lines) > 5 and "".join(lines[5].split()).isdigit():  # counts where the symbols belong
        raise InputError(f"{prefix}: it has no line of element symbols above the atom counts.")
    if len(lines) > 6:
        _check_poscar_header(lines)
    from pymatgen.io.vasp import Poscar

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Poscar.from_str(text, read_velocities=False).structure
    except Exception as exc:  # pymatgen raises many types (ValueError, IndexError...)
        raise InputError(f"{prefix}: {_short_reason(exc)}") from exc


def _check_poscar_header(lines: list[str]) -> None:
    """InputError for a scale factor that is not a positive number, or more atoms than MAX_SITES."""
    scale_text = (lines[1].split() or [""])[0]
    scale = _cif_number(scale_text, "POSCAR scale factor (line 2)")
    if not math.isfinite(scale) or scale == 0:
        raise InputError(f"The POSCAR scale factor (line 2) is {quote(scale_text)}; it must be a positive number.")
    if scale < 0:
        raise InputError(f"The POSCAR scale factor (line 2) is {scale:g}: a negative scale (VASP's way of giving "
                         "the cell volume) is not supported; give the lattice vectors in Å and a scale of 1.")
    for symbol in lines[5].split():  # VASP names such as Fe_pv or Fe/hash keep the element in front
        if re.split(r"[_/]", symbol)[0] not in _SYMBOLS:
            raise InputError(f"The POSCAR names {quote(symbol)} (line 6), which is not a chemical element.")
    counts = lines[6].split()
    if all(count.isdigit() for count in counts) and sum(map(int, counts)) > MAX_SITES:
        raise InputError(f"The POSCAR lists {sum(map(int, counts)):,} atoms; the limit is {MAX_SITES}.")


def check_structure(structure: Structure) -> None:
    """InputError unless `structure` could be a real crystal; safe and fast on any input (bounded work).

    Checked: 1 to MAX_SITES sites of real elements; occupancies of at least MIN_OCCUPANCY (pymatgen's sites
    keep their sum at most 1); a finite cell with lengths in [MIN_DISTANCE, MAX_CELL_LENGTH] Å, angles in (0°,
    180°) and a positive volume; finite coordinates; MIN_VOLUME_PER_ATOM to MAX_VOLUME_PER_ATOM Å^3 per site; no two
    atoms (or an atom and its copy in the next cell) closer than MIN_DISTANCE Å. Partially occupied sites
    closer than that are accepted when their occupancies add up to at most 1 (split positions of disorder).
    """
    n_sites = len(structure)
    if n_sites == 0:
        raise InputError("The structure has no atoms.")
    if n_sites > MAX_SITES:
        raise InputError(f"The structure has {n_sites} sites; the limit is {MAX_SITES}.")
    for index, site in enumerate(structure, start=1):
        if not site.species:  # pymatgen drops occupancies below 1e-8
            raise InputError(f"Atom {index} holds no element (its occupancies are zero or vanishingly small).")
        for species, occupancy in site.species.items():
            if isinstance(species, DummySpecies) or not 1 <= getattr(species, "Z", 0) <= 118:
                raise InputError(f"Unknown element {quote(species.symbol)} in the structure (atom {index}).")
            _check_occupancy(occupancy, f"atom {index} ({species.symbol})")
    lattice = structure.lattice
    _check_cell_parameters(lattice.abc, lattice.angles)
    if not np.isfinite(structure.frac_coords).all():
        bad = int(np.flatnonzero(~np.isfinite(structure.frac_coords).all(axis=1))[0]) + 1
        raise InputError(f"The coordinates of atom {bad} are not finite numbers.")
    outside = np.abs(structure.frac_coords - 0.5).max(axis=1) > MAX_FRACTIONAL_OFFSET + 0.5
    if outside.any():  # far images would make the neighbour search enumerate that many cells
        bad = int(np.flatnonzero(outside)[0]) + 1
        low, high = -MAX_FRACTIONAL_OFFSET, 1 + MAX_FRACTIONAL_OFFSET
        raise InputError(f"Atom {bad} lies at fractional coordinates {np.round(structure.frac_coords[bad - 1], 3)}, "
                         f"outside {low:g} to {high:g}; give positions inside the unit cell.")
    volume_per_atom = abs(np.linalg.det(lattice.matrix)) / n_sites
    if not MIN_VOLUME_PER_ATOM <= volume_per_atom <= MAX_VOLUME_PER_ATOM:
        raise InputError(f"The cell has {volume_per_atom:.3g} Å³ per atom; real solids have between "
                         f"{MIN_VOLUME_PER_ATOM:g} and {MAX_VOLUME_PER_ATOM:g} Å³ per atom.")
    _check_distances(structure)


def _check_occupancy(occupancy: float, where: str) -> None:
    """InputError unless MIN_OCCUPANCY <= occupancy < inf (the sum over a site is limited by pymatgen)."""
    if math.isnan(occupancy):
        raise InputError(f"The occupancy of {where} is not a number.")
    if not MIN_OCCUPANCY <= occupancy < math.inf:
        raise InputError(f"The occupancy of {where} is {occupancy:g}; occupancies must lie between "
                         f"{MIN_OCCUPANCY:g} and 1.")


def _check_cell_parameters(lengths, angles) -> None:
    """InputError unless the cell lengths (Å) and angles (°) describe a real cell of positive volume."""
    for axis, length in zip("abc", lengths):
        if not math.isfinite(length):
            raise InputError(f"The cell length {axis} is {'not a number' if math.isnan(length) else 'infinite'}.")
        if length <= 0:
            raise InputError(f"The cell length {axis} is {length:g} Å; cell lengths must be positive.")
        if length < MIN_DISTANCE:
            raise InputError(f"The cell length {axis} is {length:g} Å: every atom would be that close to its copy "
                             f"in the next cell; the closest physical distance is about {MIN_DISTANCE:g} Å.")
        if length > MAX_CELL_LENGTH:
            raise InputError(f"The cell length {axis} is {length:g} Å; the limit is {MAX_CELL_LENGTH:g} Å.")
    for name, angle in zip(("alpha", "beta", "gamma"), angles):
        if not 0 < angle < 180:  # False for NaN too
            raise InputError(f"The cell angle {name} is {angle:g}°; cell angles lie strictly between 0° and 180°.")
    cosines = np.cos(np.radians(angles))
    if 1 - (cosines**2).sum() + 2 * cosines.prod() <= 1e-8:  # (V / abc)^2
        raise InputError(f"The cell angles {', '.join(f'{angle:g}°' for angle in angles)} give a cell of zero "
                         "volume: the three cell vectors lie in one plane.")


def _check_distances(structure: Structure) -> None:
    """InputError for two atoms, or an atom and its own copy, closer than MIN_DISTANCE (split sites excepted).

    Minimum-image distances on the LLL-reduced cell, a few rows at a time: memory stays bounded whatever the
    cell's shape (pymatgen's neighbour search allocates by cell volume over the cutoff, gigabytes for a 1,000 Å
    cell and a 0.5 Å cutoff).
    """
    lattice = structure.lattice
    images = np.array(list(itertools.product((-1, 0, 1), repeat=3)))
    images = images[np.abs(images).sum(axis=1) > 0]
    shortest = np.linalg.norm(images @ lattice.lll_matrix, axis=1).min()
    occupancy = np.array([site.species.num_atoms for site in structure])
    if shortest < MIN_DISTANCE:  # every atom is that far from its own copy in the next cell
        raise InputError(f"Atom 1 ({structure[0].species_string}) is {shortest:.2f} Å from its own copy in the next "
                         f"cell; the closest physical distance is about {MIN_DISTANCE:g} Å.")
    frac = structure.frac_coords
    for start in range(0, len(structure), DISTANCE_ROWS):
        rows = np.arange(start, min(start + DISTANCE_ROWS, len(structure)))
        distances = lattice.get_all_distances(frac[rows], frac)
        clash = (distances < MIN_DISTANCE) & (rows[:, None] < np.arange(len(structure)))  # each pair once
        clash &= occupancy[rows, None] + occupancy[None, :] > 1 + SITE_OCCUPANCY_SLACK  # split sites are fine
        if clash.any():
            worst = np.unravel_index(np.argmin(np.where(clash, distances, np.inf)), clash.shape)
            i, j = int(rows[worst[0]]), int(worst[1])
            pair = f"Atoms {i + 1} ({structure[i].species_string}) and {j + 1} ({structure[j].species_string})"
            raise InputError(f"{pair} are {distances[worst]:.2f} Å apart; the closest physical distance is about "
                             f"{MIN_DISTANCE:g} Å.")


def _short_reason(exc: Exception) -> str:
    """One short line explaining a pymatgen parsing failure."""
    message = str(exc)
    occupancy = re.search(r"Occupancy ([\d.]+) exceeded tolerance", message)
    if occupancy:
        return f"a site has a total occupancy of {occupancy.group(1)}, more than 1."
    if isinstance(exc, IndexError):
        return "the file is incomplete or not in the expected layout."
    last_line = message.strip().splitlines()[-1] if message.strip() else type(exc).__name__
    missing_field = re.fullmatch(r"'(_\w+)'", last_line)  # pymatgen's KeyError for a missing CIF field
    if missing_field:
        return f"the field {missing_field.group(1)} is missing or unreadable."
    return excerpt(last_line, 150)


def structure_to_cif(structure: Structure) -> str:
    """CIF text for `structure`: its conventional cell and space group (spglib, SYMPREC), P1 where spglib finds
    none; one row per species of each site (partial occupancies written out), every row with its own label."""
    from pymatgen.io.cif import CifWriter

    plain = Structure(structure.lattice, structure.species_and_occu, structure.frac_coords)  # no labels of its own:
    try:  # CifWriter numbers the rows (La0, Sr1, Cu2...)
        return str(CifWriter(plain, symprec=SYMPREC))
    except (ValueError, TypeError):  # spglib gives up on some disordered or degenerate cells
        return str(CifWriter(plain))


def is_mp_id(text: str) -> bool:
    """True for Materials Project ids such as ``mp-149`` or ``mvc-12``."""
    return _MP_ID.fullmatch(text.strip()) is not None


def parse_input(text: str) -> Composition | Structure:
    """Read the app's single text box: a pasted CIF/POSCAR becomes a Structure, anything else a formula."""
    return read_structure(text) if _looks_like_structure(text) else parse_formula(text)


def _looks_like_structure(text: str) -> bool:
    """Multi-line text with CIF markers, or at least 8 lines with a POSCAR lattice block."""
    lines = text.rstrip().splitlines()
    if len(lines) < 2:
        return False
    if _CIF_MARKER.search(text):
        return True
    return len(lines) >= 8 and all(_is_vector(line) for line in lines[2:5])


def _is_vector(line: str) -> bool:
    """True if the line starts with three numbers."""
    parts = line.split()[:3]
    return len(parts) == 3 and all(_is_number(part) for part in parts)


def _is_number(text: str) -> bool:
    """True if `text` parses as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- pools: a CSV of formulas, or CIF/POSCAR files in a zip, a folder or one file ----------------


MAX_UPLOAD_BYTES = 50 * 2**20  # a CSV or zip file as given
MAX_CSV_ROWS = 200_000
MAX_MEMBERS = 20_000  # entries of a zip, structure files of a folder
MAX_MEMBER_BYTES = MAX_FILE_BYTES  # one structure file, decompressed
MAX_TOTAL_BYTES = 200 * 2**20  # all structure files of a zip or folder, decompressed
STRUCTURE_SUFFIXES = (".cif", ".vasp", ".poscar")
STRUCTURE_PREFIXES = ("POSCAR", "CONTCAR")
POOL_COLUMNS = ("id", "formula", "structure", "error")  # then the carried columns of a CSV
_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_UNPACK_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, struct.error, EOFError, OSError, ValueError,
                  NotImplementedError, RuntimeError)  # what zipfile raises for damaged or unusual members


@dataclass(frozen=True)
class _Member:
    """A structure file to read: its id, its declared size, how to open it, a problem known up front."""

    id: str
    size: int
    open: Callable[[], IO[bytes]]
    problem: str = ""


def _opener(path: Path) -> Callable[[], IO[bytes]]:
    """Opens ``path`` for reading bytes when called."""
    return lambda: path.open("rb")


def is_structure_name(name: str) -> bool:
    """True for CIF/POSCAR file names (.cif, .vasp, .poscar, POSCAR*, CONTCAR*), not hidden, not in __MACOSX."""
    path = PurePath(name)
    if any(part.startswith(".") or part == "__MACOSX" for part in path.parts):
        return False
    return path.name.lower().endswith(STRUCTURE_SUFFIXES) or path.name.upper().startswith(STRUCTURE_PREFIXES)


def read_pool(name: str, content: bytes | None = None) -> pd.DataFrame:
    """Rows of a pool: a CSV with a 'formula' column, a zip or folder of CIF/POSCAR files, or one such file.

    `content` holds the bytes of an upload called `name`; without it `name` is a file or folder on disk.
    Columns: :data:`POOL_COLUMNS` (structure None for formulas and unreadable files; error '' if read),
    then the CSV's other columns. Ids come from an 'id' column, else the formula text, or are the file's
    path inside the zip or folder. A file that cannot be read is a row with its error; a pool that cannot
    be read at all (or breaks a limit) raises InputError.
    """
    label = quote(PurePath(name).name or name)
    if content is None:
        path = Path(name)
        if path.is_dir():
            return _structure_pool(_folder_members(path, label), f"the folder {label}")
        if not path.is_file():
            raise InputError(f"Cannot read {label}: it is not a regular file or folder.")
        if not name.lower().endswith((".csv", ".zip")):
            return _structure_pool([_Member(path.name, path.stat().st_size, _opener(path))], label)
        content = _read_upload(path)
    if len(content) > MAX_UPLOAD_BYTES:
        raise InputError(f"The file {label} is {_megabytes(len(content))} MB; "
                         f"the limit is {MAX_UPLOAD_BYTES // 2**20} MB.")
    if name.lower().endswith(".csv"):
        return _csv_pool(content, label)
    if name.lower().endswith(".zip"):
        return _structure_pool(_zip_members(content, label), label)
    return _structure_pool([_Member(PurePath(name).name, len(content), partial(BytesIO, content))], label)


def _read_upload(path: Path) -> bytes:
    """The bytes of a CSV or zip on disk, refused before reading if larger than MAX_UPLOAD_BYTES."""
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise InputError(f"The file {quote(path.name)} is {_megabytes(size)} MB; "
                         f"the limit is {MAX_UPLOAD_BYTES // 2**20} MB.")
    with path.open("rb") as stream:
        return stream.read(MAX_UPLOAD_BYTES + 1)


def _csv_pool(content: bytes, label: str) -> pd.DataFrame:
    """Pool rows of a CSV table with a 'formula' column (at most MAX_CSV_ROWS)."""
    try:
        table = pd.read_csv(BytesIO(content), dtype={"id": str, "formula": str}, nrows=MAX_CSV_ROWS + 1)
    except ValueError as exc:  # pandas' parser, empty-file and decoding errors are all ValueErrors
        raise InputError(f"Could not read {label} as a CSV table ({excerpt(exc, 150)}).") from exc
    return table_pool(table, label, MAX_CSV_ROWS)


def table_pool(table: pd.DataFrame, label: str, max_rows: int | None = None) -> pd.DataFrame:
    """Pool rows (:data:`POOL_COLUMNS`, then the table's other columns) of a table with a 'formula' column: a CSV
    file's, or one chunk of a CSV or Parquet file read in chunks; InputError beyond `max_rows` rows or for none."""
    if "formula" not in table.columns:
        columns = ", ".join(quote(c) for c in table.columns[:10]) or "none"
        raise InputError(f"The table {label} needs a 'formula' column; its columns are: {columns}.")
    if max_rows is not None and len(table) > max_rows:
        raise InputError(f"The table {label} has more than {max_rows:,} rows, the limit; "
                         "split it into smaller files.")
    if table.empty:
        raise InputError(f"The table {label} has no rows.")
    formulas = table["formula"].fillna("")
    carried = table.drop(columns=list(POOL_COLUMNS), errors="ignore")
    ids = table["id"].fillna("") if "id" in table.columns else formulas
    return pd.concat([pd.DataFrame({"id": ids, "formula": formulas, "structure": None, "error": ""}), carried],
                     axis=1)


def _zip_members(content: bytes, label: str) -> list[_Member]:
    """The structure files of a zip archive, with encrypted and oddly compressed ones flagged up front."""
    if content.count(b"PK\x01\x02") > MAX_MEMBERS:  # central directory entries, counted before parsing them
        raise InputError(f"The archive {label} holds more than {MAX_MEMBERS:,} files, the limit.")
    try:
        archive = zipfile.ZipFile(BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(f"The file {label} is not a readable zip archive.") from exc
    return [_Member(info.filename, info.file_size, partial(archive.open, info), _zip_problem(info))
            for info in archive.infolist() if not info.is_dir() and is_structure_name(info.filename)]


def _zip_problem(info: zipfile.ZipInfo) -> str:
    """Why a zip member cannot be unpacked, or ''."""
    if info.flag_bits & 0x1:
        return "This file is encrypted (password-protected) in the archive; zip it again without a password."
    if info.compress_type not in _ZIP_METHODS:
        return ("This file is compressed with a method that cannot be unpacked here (such as 'implode'); "
                "zip it again with ordinary (deflate) compression.")
    return ""


def _folder_members(folder: Path, label: str) -> list[_Member]:
    """The structure files under `folder` (called `label` in messages) in path order; ids are paths relative to it."""
    found = (p for p in folder.rglob("*") if is_structure_name(p.relative_to(folder).as_posix()) and p.is_file())
    paths = list(itertools.islice(found, MAX_MEMBERS + 1))
    if len(paths) > MAX_MEMBERS:
        raise InputError(f"The folder {label} holds more than {MAX_MEMBERS:,} structure files, "
                         "the limit.")
    return [_Member(p.relative_to(folder).as_posix(), p.stat().st_size, _opener(p)) for p in sorted(paths)]


def _structure_pool(members: list[_Member], label: str) -> pd.DataFrame:
    """One pool row per structure file, read one at a time within the size limits."""
    if not members:
        raise InputError(f"Found no CIF/POSCAR files (.cif, .vasp, .poscar, POSCAR*, CONTCAR*) in {label}.")
    if len(members) > MAX_MEMBERS:
        raise InputError(f"There are {len(members):,} structure files in {label}; the limit is {MAX_MEMBERS:,}.")
    limit = f"the limit is {MAX_TOTAL_BYTES // 2**20} MB"
    declared = sum(m.size for m in members if not m.problem and m.size <= MAX_MEMBER_BYTES)
    if declared > MAX_TOTAL_BYTES:
        raise InputError(f"The structure files in {label} add up to {_megabytes(declared)} MB unpacked; {limit}.")
    rows, total = [], 0
    for member in members:
        try:
            blob = _read_member(member)
        except InputError as exc:
            rows.append({"id": member.id, "formula": "", "structure": None, "error": str(exc)})
            continue
        total += len(blob)
        if total > MAX_TOTAL_BYTES:  # the sizes in a zip's headers can lie
            raise InputError(f"The structure files in {label} add up to more than their stated sizes "
                             f"unpacked; {limit}.")
        rows.append(_structure_row(member.id, blob))
    return pd.DataFrame(rows, columns=list(POOL_COLUMNS))


def _read_member(member: _Member) -> bytes:
    """The bytes of one structure file; no more than MAX_MEMBER_BYTES + 1 of them are ever read."""
    limit = f"the limit is {MAX_MEMBER_BYTES // 2**20} MB"
    if member.problem:
        raise InputError(member.problem)
    if member.size > MAX_MEMBER_BYTES:
        raise InputError(f"The file is {_megabytes(member.size)} MB unpacked; {limit}.")
    try:
        with member.open() as stream:
            blob = stream.read(MAX_MEMBER_BYTES + 1)
    except _UNPACK_ERRORS as exc:
        raise InputError("The file is damaged and could not be unpacked or read.") from exc
    if len(blob) > MAX_MEMBER_BYTES:
        raise InputError(f"The file unpacks to more than its stated size and {limit}.")
    return blob


def _structure_row(member_id: str, blob: bytes) -> dict:
    """The pool row of one structure file's bytes; unreadable content becomes the row's error."""
    try:
        structure = read_structure(blob, filename=member_id)
    except InputError as exc:
        return {"id": member_id, "formula": "", "structure": None, "error": str(exc)}
    return {"id": member_id, "formula": structure.composition.formula.replace(" ", ""), "structure": structure,
            "error": ""}
