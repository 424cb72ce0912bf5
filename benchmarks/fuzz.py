"""Fuzz the input readers with hostile formulas, CIF/POSCAR mutations and zip archives.

Every case runs in a worker process under a memory limit (RLIMIT_AS: the warmed-up worker plus
``--memory-mb``) and a per-case timeout; a worker that crashes (segfault) or hangs is replaced.
The contract checked for each case (see :func:`run_case`):

* ``sc_core.io.parse_formula`` returns a Composition holding exactly the elements written in the text,
  each with a positive amount, or raises InputError;
* ``sc_core.io.read_structure`` returns a physically possible Structure (finite lattice, positive volume,
  1 to 500 sites, real elements, occupancies in (0, 1], atoms at least 0.5 Å apart) whose elements are the
  ones on the file's atom-site lines, or raises InputError; then the baseline model gives a finite P in
  [0, 1] or an error row;
* ``sc_core.cli.read_inputs`` on a zip gives one row per CIF/POSCAR member, each a structure as above or
  an error message, or raises InputError;
* error messages are short (at most 300 characters); nothing else is raised.

Usage: ``python benchmarks/fuzz.py --cases 100000`` (``make fuzz``); ``--cases 5000 --workers 1`` for a
quick look. The same generators drive ``tests/test_fuzz.py`` (through hypothesis' random source).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import pickle
import random
import re
import select
import string
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 2.0
MEMORY_MB = 500
MAX_MESSAGE = 300
MAX_SITES = 500
MIN_DISTANCE = 0.5  # Å; closer atoms are not a crystal
KINDS = ("formula", "cif", "poscar", "zip")
MIX = {"formula": 0.4, "cif": 0.3, "poscar": 0.2, "zip": 0.1}  # share of --cases per kind
CATEGORIES = ("accepted", "clean_error", "silent", "invalid", "bad_message", "other_exc", "memory", "crash", "hang")
FAILURES = CATEGORIES[2:]

HOSTILE_NUMBERS = ("inf", "-inf", "nan", "NaN", "Infinity", "0", "-0", "-1", "1e-30", "1e300", "-1e300",
                   "1e-300", "0.01", "1e5", "1e6", str(10**40), "9" * 400, "1.5(3)", "?", ".", "0x10", "1_000",
                   "１", "1,5")
HOSTILE_OCCUPANCIES = ("0", "-1", "-0.5", "nan", "inf", "1e-30", "1e-9", "1.04", "1.2", "2", "0.5", "?", ".")
HOSTILE_SPECIES = ("Vac", "Uue", "Uuo", "X", "Xx", "Q", "Zz", "M", "Og", "Rf", "Lr", "Pu", "H", "Fe2+", "O2-",
                   "Fe+3", "*", "?", "'Fe'", "Fe_pv", "Ci", "Mg0", "A1")
FORMULA_SEEDS = ("YBa2Cu3O6.95", "Ba0.6K0.4Fe2As2", "Ca10(Ir4As8)(Fe2As2)5", "MgB2", "La1.85Sr0.15CuO4",
                 "1T-TaS2", "Nb3Sn", "[Cu(NH3)4]SO4", "HgBa2Ca2Cu3O8", "Fe")
FORMULA_TOKENS = ("Fe", "Ni", "Cu", "O", "Ba", "La", "Sr", "Y", "Mg", "B", "Nb", "Sn", "I", "V", "U", "C", "N",
                  "H", "He", "Pu", "Og", "Lr", "Rf", "D", "T", "Xx", "Uue", "Vac", "Q", "J", "fe", "cu", "2", "3",
                  "0.5", "10", "0", "0.000000001", "1e-30", "9" * 400, "-1", "(", ")", "[", "]", "{", "}", " ",
                  "\t", "\n", "９", "٣", "²", "½", "Ⅲ", "+", "-", "2+", "(III)", "(II)", "(IV)", ".", "·", "*",
                  "\x00", "\u200b", "é", "2H-", "1T-")
NOISE_CHARS = "0123456789.-+eE ()[]'\";#_\n\t\x00\xff９é\u202e" + string.ascii_letters
ROMAN_STATE = re.compile(r"\((?:II|III|IV|VI|VII|VIII)\)")
SPLIT_NUMBER = re.compile(r"\d\s+[\d.]|\.\s+\d|\d\.\s")
POLYTYPE = re.compile(r"^\s*\d+[A-Z][a-z]?'?-")  # 2H-NbSe2 is NbSe2 (documented convention of parse_formula)
ELEMENT_TOKEN = re.compile(r"[A-Z][a-z]*")
CHARGE = re.compile(r"([A-Za-z]{1,3})\d*(?:[+-]\d*)?")  # Fe2+, O2-, Fe+3, Mg0 name Fe, O, Fe, Mg
CELL_TAG = re.compile(r"^(_cell_(?:length_[abc]|angle_(?:alpha|beta|gamma)))([ \t]+)(\S+)", re.MULTILINE)


@dataclass
class Case:
    """One generated input: its kind, what was done to it, and the payload the worker checks."""

    kind: str
    label: str
    payload: object


# -- seeds ------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def seed_structures() -> tuple:
    """Small valid structures: a few bundled 3DSC crystals and some built with Structure.from_spacegroup."""
    import warnings

    from pymatgen.core import Lattice, Structure

    from sc_core.io import read_structure

    warnings.filterwarnings("ignore", message="Site labels are not unique")  # pymatgen, on the disordered seed
    built = [
        Structure.from_spacegroup("P6/mmm", Lattice.hexagonal(3.08, 3.52), ["Mg", "B"],
                                  [[0, 0, 0], [1 / 3, 2 / 3, 0.5]]),
        Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
        Structure.from_spacegroup("Pm-3n", Lattice.cubic(5.29), ["Nb", "Sn"], [[0.25, 0, 0.5], [0, 0, 0]]),
        Structure.from_spacegroup("I4/mmm", Lattice.tetragonal(3.96, 13.0),
                                  ["Ba", {"Fe": 0.9, "Co": 0.1}, "As"], [[0, 0, 0], [0, 0.5, 0.25], [0, 0, 0.354]]),
    ]
    return tuple((f"3dsc:{name}", read_structure(text, filename=name)) for name, text in bundled_cifs()) + tuple(
        (f"spacegroup:{s.composition.reduced_formula}", s) for s in built)


@lru_cache(maxsize=1)
def bundled_cifs() -> tuple[tuple[str, str], ...]:
    """The raw text of the smallest bundled 3DSC CIFs with two or more elements, and of one doped entry."""
    import tarfile

    from sc_core import data

    with tarfile.open(data.data_path("3dsc_cifs.tar.gz")) as tar:
        members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: (m.size, m.name))
        picked, doped = [], None
        for member in members:
            name = Path(member.name).name
            if len(re.findall(r"[A-Z][a-z]?", name.split("-MP-")[0])) < 2:
                continue
            if "synth_doped" in name:
                doped = doped or (name, tar.extractfile(member).read().decode())
            elif len(picked) < 4:
                picked.append((name, tar.extractfile(member).read().decode()))
            if doped and len(picked) == 4:
                break
    return tuple(picked + [doped])


@lru_cache(maxsize=1)
def cif_seeds() -> tuple[tuple[str, str], ...]:
    """(name, CIF text): the bundled CIFs as written, plus the built structures through our CIF writer."""
    from sc_core.io import structure_to_cif

    built = [(name, structure_to_cif(s)) for name, s in seed_structures() if name.startswith("spacegroup:")]
    return bundled_cifs() + tuple(built)


@lru_cache(maxsize=1)
def poscar_seeds() -> tuple[tuple[str, str], ...]:
    """(name, POSCAR text) of the ordered seed structures."""
    from pymatgen.io.vasp import Poscar

    return tuple((name, Poscar(s).get_str()) for name, s in seed_structures() if s.is_ordered)


@lru_cache(maxsize=1)
def high_symmetry_ops() -> tuple[str, ...]:
    """The 192 operations of Fm-3m as CIF xyz strings."""
    from pymatgen.symmetry.groups import SpaceGroup

    return tuple(sorted(op.as_xyz_str() for op in SpaceGroup("Fm-3m").symmetry_ops))


# -- formulas ---------------------------------------------------------------------------------------
def formula_case(rng: random.Random) -> Case:
    """A formula built from hostile tokens, or a real formula with a few characters mutated."""
    if rng.random() < 0.5:
        text = "".join(rng.choice(FORMULA_TOKENS) for _ in range(rng.randint(1, 10)))
        return Case("formula", "tokens", text)
    text = rng.choice(FORMULA_SEEDS)
    for _ in range(rng.randint(1, 3)):
        pos = rng.randint(0, len(text))
        if rng.random() < 0.5:
            text = text[:pos] + rng.choice(FORMULA_TOKENS) + text[pos:]
        else:
            text = text[:pos] + text[pos + 1:]
    return Case("formula", "mutated seed", text)


def formula_violation(text: str, composition) -> str | None:
    """Why returning `composition` for `text` breaks the contract, or None."""
    from pymatgen.core import Composition, Element

    if not isinstance(composition, Composition):
        return f"returned {type(composition).__name__}, not a Composition"
    amounts = dict(composition.element_composition.items())
    if not amounts or not all(math.isfinite(a) and a > 0 for a in amounts.values()):
        return f"amounts not all finite and positive: {amounts}"
    if any(not c.isascii() and c.isnumeric() for c in text):
        return "non-ASCII digits were read as numbers"
    if ROMAN_STATE.search(text):
        return "an oxidation state in Roman numerals was read as elements"
    if SPLIT_NUMBER.search(text):
        return "a number split by whitespace was joined"
    tokens = set(ELEMENT_TOKEN.findall(POLYTYPE.sub("", text)))
    unknown = sorted(t for t in tokens - {"D", "T"} if t not in Element.__members__)
    if unknown:
        return f"unknown symbol(s) {unknown} were accepted"
    written = {"H" if t in ("D", "T") else t for t in tokens}
    read = {e.symbol for e in amounts}
    if read != written:
        return f"elements written {sorted(written)} but read {sorted(read)}"
    return None


# -- CIF ----------------------------------------------------------------------------------------------
def _site_rows(lines: list[str]) -> list[int]:
    """Line numbers of the atom-site rows of a CIF (the loop holding _atom_site_fract_x)."""
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("_atom_site_fract_x")), None)
    if start is None:
        return []
    while start < len(lines) and lines[start].strip().startswith("_"):
        start += 1
    end = start
    while end < len(lines) and lines[end].strip() and not lines[end].strip().startswith(("_", "loop_", "data_")):
        end += 1
    return list(range(start, end))


def _site_loop(lines: list[str]) -> tuple[list[str], list[int]]:
    """Column tags of the atom-site loop and its row line numbers."""
    rows = _site_rows(lines)
    if not rows:
        return [], []
    tags, i = [], rows[0] - 1
    while i >= 0 and lines[i].strip().startswith("_"):
        tags.insert(0, lines[i].split()[0].lower())
        i -= 1
    return tags, rows


def _set_column(line: str, tags: list[str], tag: str, value: str) -> str:
    parts = line.split()
    if tag in tags and len(parts) == len(tags):
        parts[tags.index(tag)] = value
    return "  " + "  ".join(parts)


def _cif_cell(rng, text):
    value = rng.choice(HOSTILE_NUMBERS)
    tags = CELL_TAG.findall(text)
    tag = rng.choice(tags)[0] if tags else "_cell_length_a"
    mutated = CELL_TAG.sub(lambda m: m.group(1) + m.group(2) + value if m.group(1) == tag else m.group(0), text)
    return mutated, f"{tag} {value}"


def _replace_number(rng, text):
    numbers = list(re.finditer(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])", text))
    if not numbers:
        return text, "no number"
    match, value = rng.choice(numbers), rng.choice(HOSTILE_NUMBERS)
    return text[:match.start()] + value + text[match.end():], f"number {match.group()} -> {value}"


def _cif_column(tag: str, values: tuple[str, ...]) -> Callable:
    def mutate(rng, text):
        lines = text.splitlines()
        tags, rows = _site_loop(lines)
        if not rows:
            return text, "no site rows"
        row, value = rng.choice(rows), rng.choice(values)
        lines[row] = _set_column(lines[row], tags, tag, value)
        if tag == "_atom_site_type_symbol":
            lines[row] = _set_column(lines[row], tags, "_atom_site_label", value.strip("'") + "1")
        return "\n".join(lines) + "\n", f"{tag} of site {row} -> {value}"
    return mutate


def _cif_symmetry(rng, text):
    lines = text.splitlines()
    tags = ("_symmetry_equiv_pos_as_xyz", "_space_group_symop_operation_xyz")
    start = next((i for i, line in enumerate(lines) if line.strip().startswith(tags)), None)
    if start is None:
        return text, "no symmetry loop"
    end = start + 1
    while end < len(lines) and lines[end].strip() and not lines[end].strip().startswith(("_", "loop_")):
        end += 1
    choice = rng.choice(["fm-3m", "duplicate", "garbage", "drop", "name"])
    if choice == "fm-3m":
        ops = list(high_symmetry_ops())
    elif choice == "duplicate":
        ops = [lines[start + 1].split(None, 1)[-1].strip("'")] * rng.choice([2, 50, 1000])
    elif choice == "garbage":
        ops = [rng.choice(["x,y", "x/0,y,z", "x*y,y,z", "1e300*x,y,z", "x,y,z,w", "a,b,c", "x+1/0,y,z", "nan*x,y,z"])]
    elif choice == "drop":
        ops = []
    else:
        renamed = re.sub(r"^(_symmetry_space_group_name_H-M\s+).*$", r"\1'Fm-3m'", text, flags=re.MULTILINE)
        return renamed, "space group name -> Fm-3m"
    body = [f"  {i + 1}  '{op}'" for i, op in enumerate(ops)]
    return "\n".join(lines[:start + 1] + body + lines[end:]) + "\n", f"symmetry ops: {choice} ({len(ops)})"


def _cif_sites(rng, text):
    lines = text.splitlines()
    tags, rows = _site_loop(lines)
    if not rows:
        return text, "no site rows"
    row = lines[rng.choice(rows)]
    choice = rng.choice(["copies", "overlap", "close"])
    if choice == "copies":
        n = rng.choice([10, 120, 600])
        copies = [_set_column(_set_column(row, tags, "_atom_site_fract_x", f"{rng.random():.6f}"), tags,
                              "_atom_site_fract_y", f"{rng.random():.6f}") for _ in range(n)]
    else:
        shift = 0.0 if choice == "overlap" else 0.01
        values = dict(zip(tags, row.split())) if len(row.split()) == len(tags) else {}
        x = _cif_float(values.get("_atom_site_fract_x", "0"))
        moved = f"{(x or 0.0) + shift:.6f}"
        copies = [_set_column(_set_column(row, tags, "_atom_site_fract_x", moved), tags, "_atom_site_label", "Zz9")]
    return "\n".join(lines[:rows[-1] + 1] + copies + lines[rows[-1] + 1:]) + "\n", f"sites: {choice} x{len(copies)}"


def _lines(rng, text):
    lines = text.splitlines() or [""]
    i = rng.randrange(len(lines))
    choice = rng.choice(["delete", "duplicate", "rename", "loop_", "swap"])
    if choice == "delete":
        del lines[i]
    elif choice == "duplicate":
        lines.insert(i, lines[i])
    elif choice == "rename" and lines[i].strip():
        word = lines[i].split()[0]
        lines[i] = lines[i].replace(word, rng.choice([word.upper(), word[:-1], word + "_", "#" + word, "'" + word]), 1)
    elif choice == "loop_":
        lines.insert(i, "loop_")
    else:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + "\n", f"line {i}: {choice}"


def _truncate(rng, text):
    cut = rng.randint(0, len(text))
    return text[:cut], f"truncated at {cut} of {len(text)}"


def _noise(rng, text):
    data = bytearray(text.encode())
    n = rng.choice([1, 2, 5, 20])
    for _ in range(n):
        pos = rng.randrange(len(data) + 1)
        byte = rng.choice(NOISE_CHARS).encode()[:1] if rng.random() < 0.9 else bytes([rng.randrange(256)])
        op = rng.choice(["replace", "insert", "delete"])
        data[pos:pos + (op != "insert")] = b"" if op == "delete" else byte
    return bytes(data), f"{n} random byte edits"


CIF_MUTATIONS: dict[str, Callable] = {
    "cell": _cif_cell,
    "number": _replace_number,
    "occupancy": _cif_column("_atom_site_occupancy", HOSTILE_OCCUPANCIES),
    "species": _cif_column("_atom_site_type_symbol", HOSTILE_SPECIES),
    "symmetry": _cif_symmetry,
    "sites": _cif_sites,
    "lines": _lines,
    "truncate": _truncate,
    "noise": _noise,
}


def cif_case(rng: random.Random, family: str | None = None) -> Case:
    """A seed CIF with one mutation of `family` (or of 1-3 random families)."""
    return _mutated("cif", rng.choice(cif_seeds()), CIF_MUTATIONS, rng, family)


def _mutated(kind: str, seed: tuple[str, str], mutations: dict[str, Callable], rng, family) -> Case:
    name, text = seed
    families = [family] if family else rng.choices(sorted(mutations), k=rng.randint(1, 3))
    labels = []
    for fam in families:
        if isinstance(text, bytes):  # byte noise came first: later mutations work on the decoded text
            text = text.decode("utf-8", errors="replace")
        try:
            text, label = mutations[fam](rng, text)
        except (IndexError, ValueError):  # an earlier mutation removed what this one works on
            label = "not applicable"
        labels.append(f"{fam}: {label}")
    return Case(kind, f"{name}; " + "; ".join(labels), text)


def cif_site_elements(text: str) -> tuple[set[str], list[str]] | None:
    """(elements on atom-site rows with positive occupancy, problems that must make the reader refuse),
    read from the CIF's atom-site loop; None where the loop cannot be read unambiguously."""
    import shlex


    lines = text.splitlines()
    tags, rows = _site_loop(lines)
    column = "_atom_site_type_symbol" if "_atom_site_type_symbol" in tags else "_atom_site_label"
    if not rows or column not in tags or len(set(tags)) != len(tags):
        return None
    try:
        tokens = [token for row in rows for token in shlex.split(lines[row], comments=False)]
    except ValueError:
        return None
    if not tokens or len(tokens) % len(tags):
        return None
    elements, problems = set(), []
    for values in zip(*[iter(tokens)] * len(tags)):
        record = dict(zip(tags, values))
        occupancy = _cif_float(record.get("_atom_site_occupancy", "1"))
        if occupancy is None:
            return None
        if not (math.isfinite(occupancy) and occupancy > 0):
            problems.append(f"occupancy {record['_atom_site_occupancy']} on a site")
            continue
        symbol = record[column]
        if column == "_atom_site_label":  # a label such as Fe1a names its element by its leading letters
            symbol = re.match(r"[A-Za-z]*", symbol).group()
        element = named_element(symbol)
        if element:
            elements.add(element)
        else:
            problems.append(f"species {symbol!r} is not an element")
    return elements, problems


def named_element(symbol: str) -> str | None:
    """The element a site's species names: Fe for Fe, FE, Fe2+, Fe+3, Fe0, Fe_pv (a POTCAR name); None for
    anything else (Vac, Uue, X, Ci, and D or T, which no reader is asked to turn into H)."""
    from pymatgen.core import Element

    match = CHARGE.fullmatch(re.split(r"[_/]", symbol)[0])
    element = match.group(1).capitalize() if match else ""
    return element if element in Element.__members__ and element not in ("D", "T") else None


def _cif_float(text: str) -> float | None:
    """A CIF number ('1.5(3)' is 1.5); None for '?', '.' and anything unreadable."""
    try:
        return float(re.sub(r"\(\d+\)$", "", text))
    except ValueError:
        return None


# -- POSCAR -------------------------------------------------------------------------------------------
def _poscar_line(index: int, values: tuple[str, ...], what: str) -> Callable:
    def mutate(rng, text):
        lines = text.splitlines()
        parts = lines[index].split()
        k, value = rng.randrange(len(parts)), rng.choice(values)
        parts[k] = value
        lines[index] = " ".join(parts)
        return "\n".join(lines) + "\n", f"{what} {k} -> {value}"
    return mutate


def _poscar_lattice(rng, text):
    lines = text.splitlines()
    choice = rng.choice(["number", "zero row", "equal rows", "a=0.01", "huge"])
    if choice == "number":
        row = rng.randint(2, 4)
        parts = lines[row].split()
        parts[rng.randrange(3)] = rng.choice(HOSTILE_NUMBERS)
        lines[row] = " ".join(parts)
    elif choice == "zero row":
        lines[rng.randint(2, 4)] = "0.0 0.0 0.0"
    elif choice == "equal rows":
        lines[3] = lines[2]
    else:
        factor = 0.01 if choice == "a=0.01" else 1e6
        try:
            vectors = [[float(v) for v in lines[row].split()[:3]] for row in (2, 3, 4)]
        except ValueError:
            return text, "lattice unreadable"
        length = math.sqrt(sum(v * v for v in vectors[0])) or 1.0
        scale = factor / length if factor < 1 else factor  # a = 0.01 Å, or a million times longer
        lines[2] = " ".join(f"{v * scale:.8g}" for v in vectors[0])
    return "\n".join(lines) + "\n", f"lattice: {choice}"


def _poscar_coords(rng, text):
    lines = text.splitlines()
    if len(lines) < 10:
        return _replace_number(rng, text)
    first, second = 8, rng.randrange(9, len(lines))
    choice = rng.choice(["overlap", "number"])
    if choice == "overlap":
        lines[second] = lines[first]
    else:
        parts = lines[second].split()
        parts[rng.randrange(min(3, len(parts)))] = rng.choice(HOSTILE_NUMBERS)
        lines[second] = " ".join(parts)
    return "\n".join(lines) + "\n", f"coordinates of atom {second - 8}: {choice}"


def _poscar_mode(rng, text):
    lines = text.splitlines()
    mode = rng.choice(["Cartesian", "Selective dynamics", "K", "", "direct\ndirect"])
    lines[7] = mode
    return "\n".join(lines) + "\n", f"mode line -> {mode!r}"


POSCAR_MUTATIONS: dict[str, Callable] = {
    "scale": _poscar_line(1, ("-1", "-27", "0", "-0", "inf", "nan", "1e-30", "1e300", "0.01", "-1e-30", "1 1 1",
                              "-1 2 3"), "scale"),
    "lattice": _poscar_lattice,
    "species": _poscar_line(5, HOSTILE_SPECIES, "species"),
    "counts": _poscar_line(6, ("0", "-1", "1000000000", str(10**30), "1.5", "501", "7", "a"), "count"),
    "coords": _poscar_coords,
    "mode": _poscar_mode,
    "lines": _lines,
    "truncate": _truncate,
    "noise": _noise,
}


def poscar_case(rng: random.Random, family: str | None = None) -> Case:
    """A seed POSCAR with one mutation of `family` (or of 1-3 random families)."""
    return _mutated("poscar", rng.choice(poscar_seeds()), POSCAR_MUTATIONS, rng, family)


def poscar_site_elements(text: str) -> tuple[set[str], list[str]] | None:
    """(elements with a positive count, problems that must make the reader refuse), read from the POSCAR's
    species and count lines; None where the layout is not the plain VASP 5 one."""
    lines = text.splitlines()
    if len(lines) < 8 or len(lines[1].split()) != 1 or not all(len(lines[i].split()) == 3 for i in (2, 3, 4)):
        return None
    symbols, counts = lines[5].split(), lines[6].split()
    if not symbols or len(symbols) != len(counts) or any(_cif_float(s) is not None for s in symbols):
        return None
    try:
        numbers = [int(c) for c in counts]
    except ValueError:
        return None
    elements, problems = set(), []
    for symbol, count in zip(symbols, numbers):
        if count < 0:
            problems.append(f"negative count {count}")
        elif not named_element(symbol):
            problems.append(f"species {symbol!r} is not an element")
        elif count:
            elements.add(named_element(symbol))
    return elements, problems


# -- zip archives -------------------------------------------------------------------------------------
@dataclass
class Member:
    """A zip member as stored: name, stored bytes, method, and header fields that may lie."""

    name: str
    data: bytes
    method: int = 8
    crc: int = 0
    size: int = 0
    flags: int = 0


def deflated(name: str, content: bytes) -> Member:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return Member(name, packer.compress(content) + packer.flush(), 8, zlib.crc32(content), len(content))


@lru_cache(maxsize=1)
def bomb() -> tuple[bytes, int, int]:
    """1 GiB of zeros as a ~1 MB deflate stream (identical fully-flushed blocks), with its CRC and size."""
    chunk, repeats = bytes(1 << 24), 64
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    return block * repeats + packer.flush(), crc, len(chunk) * repeats


def zip_archive(members: list[Member]) -> bytes:
    """A zip file holding `members` exactly as given (no re-encoding, so headers can lie)."""
    local, central = bytearray(), bytearray()
    for m in members:
        name = m.name.encode()
        offset = len(local)
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, m.flags, m.method, 0, 33, m.crc, len(m.data), m.size,
                             len(name), 0) + name + m.data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, m.flags, m.method, 0, 33, m.crc, len(m.data),
                               m.size, len(name), 0, 0, 0, 0, 0, offset) + name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0)
    return bytes(local + central + end)


def _bad_member(rng, name: str, text: str) -> tuple[Member, str]:
    member = deflated(name, text.encode())
    choice = rng.choice(["encrypted", "corrupt", "bad crc", "imploded", "unknown method", "bomb", "lying bomb",
                         "lying size", "not utf-8"])
    if choice == "encrypted":
        member.flags |= 1
    elif choice == "corrupt":
        data = bytearray(member.data)
        for _ in range(3):
            data[rng.randrange(len(data))] = rng.randrange(256)
        member.data = bytes(data)
    elif choice == "bad crc":
        member.crc ^= 0xFFFF
    elif choice == "imploded":
        member.method = 6
    elif choice == "unknown method":
        member.method = 99
    elif choice in ("bomb", "lying bomb"):
        data, crc, size = bomb()
        member = Member(name, data, 8, crc, size if choice == "bomb" else 700)
    elif choice == "lying size":
        member.size = 10
    else:
        member = deflated(name, b"\xff\xfe\x00" * 50)
    return member, choice


def zip_case(rng: random.Random) -> Case:
    """An archive of seed CIF/POSCAR members, some replaced by encrypted, corrupt or oversized ones."""
    seeds = [(f"dir/{n}.cif".replace(":", "_"), t) for n, t in cif_seeds()] + [
        (f"POSCAR_{n}".replace(":", "_"), t) for n, t in poscar_seeds()]
    picked = rng.sample(seeds, rng.randint(1, 4))
    members, good, labels = [], {}, []
    for name, text in picked:
        if rng.random() < 0.5:
            member, label = _bad_member(rng, name, text)
            labels.append(f"{name}: {label}")
        else:
            member, good[name] = deflated(name, text.encode()), text
        members.append(member)
    if rng.random() < 0.1:
        count = rng.choice([1000, 3000])
        members += [deflated(f"many/{i}.cif", b"x") for i in range(count)]
        labels.append(f"{count} tiny members")
    if rng.random() < 0.2:
        members.append(deflated("readme.txt", b"not a structure"))
    archive = zip_archive(members)
    if rng.random() < 0.05:
        archive = archive[: rng.randrange(len(archive))]
        labels.append("archive truncated")
    names = [m.name for m in members if m.name != "readme.txt"]
    return Case("zip", "; ".join(labels) or "all members valid", {"archive": archive, "names": names, "good": good})


# -- running one case (in the worker) -----------------------------------------------------------------
class Verdict(Exception):
    """A broken contract: category (one of FAILURES) and what was seen."""

    def __init__(self, category: str, detail: str):
        super().__init__(detail)
        self.category = category


def run_case(kind: str, payload) -> tuple[str, str]:
    """(category, detail) for one case; raises nothing except MemoryError."""
    if kind == "selftest":
        return _selftest(payload)
    from sc_core.io import InputError

    try:
        if kind == "composition":
            return _check_prediction(payload)
        if kind == "formula":
            return _check_formula(payload)
        if kind == "zip":
            return _check_zip(payload)
        return _check_structure_text(kind, payload)
    except Verdict as verdict:
        return verdict.category, str(verdict)
    except InputError as exc:
        return _clean_error(exc)
    except MemoryError:
        raise
    except Exception as exc:  # the contract: InputError or a result, nothing else
        return "other_exc", f"{type(exc).__name__}: {str(exc)[:200]}"


def _clean_error(exc: Exception) -> tuple[str, str]:
    message = str(exc)
    if not message.strip() or len(message) > MAX_MESSAGE:
        return "bad_message", f"InputError of {len(message)} characters: {message[:120]!r}"
    return "clean_error", message


def _check_formula(text: str) -> tuple[str, str]:
    from sc_core.io import parse_formula

    composition = parse_formula(text)
    problem = formula_violation(text, composition)
    if problem:
        raise Verdict("silent", f"{problem} (read as {composition})")
    return _check_prediction(composition)


def _check_structure_text(kind: str, text: str | bytes) -> tuple[str, str]:
    from sc_core.io import read_structure

    structure = read_structure(text, fmt=kind)
    check_structure(structure, text, kind)
    return _check_prediction(structure)


def check_structure(structure, text: str | bytes, kind: str) -> None:
    """Raise Verdict if `structure`, read from `text`, is impossible or differs from what the file says."""
    import numpy as np
    from pymatgen.core import Element, Structure

    if not isinstance(structure, Structure):
        raise Verdict("invalid", f"returned {type(structure).__name__}, not a Structure")
    matrix = np.asarray(structure.lattice.matrix, dtype=float)
    if not np.isfinite(matrix).all():
        raise Verdict("invalid", f"lattice is not finite: {structure.lattice.abc}")
    volume = abs(float(np.linalg.det(matrix)))
    if not volume > 0:
        raise Verdict("invalid", f"cell volume is {volume}")
    if not 1 <= len(structure) <= MAX_SITES:
        raise Verdict("invalid", f"{len(structure)} sites")
    for site in structure:
        if not all(isinstance(getattr(sp, "element", sp), Element) for sp in site.species):
            raise Verdict("invalid", f"a site holds {site.species}, not a real element")
        amounts = list(site.species.values())
        if not all(0 < a <= 1 for a in amounts) or sum(amounts) > 1 + 1e-6:
            raise Verdict("invalid", f"occupancies {site.species} outside (0, 1]")
    if not np.isfinite(structure.frac_coords).all():
        raise Verdict("invalid", "coordinates are not finite")
    occupancy = np.array([site.species.num_atoms for site in structure])
    closest = min_distance(matrix, np.asarray(structure.frac_coords), occupancy)
    if closest < MIN_DISTANCE - 1e-6:  # floating-point slack at the boundary
        raise Verdict("invalid", f"atoms {closest:.3g} Å apart")
    _check_elements(structure, text, kind)


def _check_elements(structure, text: str | bytes, kind: str) -> None:
    """Raise Verdict("silent") where the elements read are not those the file names."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    named = cif_site_elements(text) if kind == "cif" else poscar_site_elements(text)
    if named is None:
        return
    elements, problems = named
    if problems:
        raise Verdict("silent", f"accepted although {problems[0]} (read as {structure.composition.formula})")
    read = {e.symbol for e in structure.composition.element_composition}
    if read != elements:
        raise Verdict("silent", f"the file names {sorted(elements)}, read as {structure.composition.formula}")


def min_distance(matrix, frac, occupancy=None) -> float:
    """Shortest distance between two atoms or an atom and its periodic image (Å), over 27 image cells. Two
    different sites whose occupancies add up to at most 1 are alternatives (split sites of disorder), never both
    occupied, and are skipped."""
    import numpy as np

    diff = frac[:, None, :] - frac[None, :, :]
    diff -= np.round(diff)
    alternatives = np.zeros((len(frac), len(frac)), dtype=bool)
    if occupancy is not None:
        alternatives = occupancy[:, None] + occupancy[None, :] <= 1 + 1e-3
        np.fill_diagonal(alternatives, False)
    best = math.inf
    for image in itertools.product((-1, 0, 1), repeat=3):
        lengths = np.linalg.norm((diff + image) @ matrix, axis=-1)
        lengths[alternatives] = np.inf
        if image == (0, 0, 0):
            np.fill_diagonal(lengths, np.inf)
        best = min(best, float(lengths.min()))
    return best


def _check_prediction(item) -> tuple[str, str]:
    """The baseline model's row for `item`: a finite P in [0, 1] or an error message."""
    from pymatgen.core import Composition

    from sc_core import models

    if isinstance(item, dict):
        item = Composition(item)
    table = models.load("baseline").predict([item])
    if len(table) != 1:
        raise Verdict("invalid", f"baseline returned {len(table)} rows for one input")
    row = table.iloc[0]
    if isinstance(row["error"], str) and row["error"]:
        return _clean_error(Exception(row["error"]))
    p = float(row["p_sc"])
    if not (math.isfinite(p) and 0 <= p <= 1):
        raise Verdict("invalid", f"baseline P = {p} without an error")
    return "accepted", f"P = {p:.3f}"


def _check_zip(payload: dict) -> tuple[str, str]:
    from pymatgen.core import Structure

    from sc_core.cli import read_inputs

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pool.zip"
        path.write_bytes(payload["archive"])
        rows = read_inputs([str(path)])
    missing = set(payload["names"]) - {row.id for row in rows}
    if missing:
        raise Verdict("silent", f"members without a row: {sorted(missing)[:3]}")
    for row in rows:
        if isinstance(row.item, Structure):
            text = payload["good"].get(row.id)
            if text is None:
                raise Verdict("silent", f"a damaged member {row.id!r} was read as {row.item.composition.formula}")
            check_structure(row.item, text, "cif" if row.id.endswith(".cif") else "poscar")
            _check_prediction(row.item)
        elif not row.error or len(row.error) > MAX_MESSAGE:
            raise Verdict("bad_message", f"member {row.id!r}: error of {len(row.error)} characters")
    return "accepted", f"{len(rows)} rows"


def _selftest(what: str) -> tuple[str, str]:
    """Misbehave on purpose, so the tests can see that the harness notices."""
    if what == "segfault":
        import ctypes

        ctypes.string_at(0)
    elif what == "hang":
        time.sleep(60)
    elif what == "allocate":
        return "accepted", str(len(bytearray(2 * MEMORY_MB * 2**20)))
    return "accepted", what


# -- the worker process and its pool ------------------------------------------------------------------
# A worker is a warmed-up parent process (imports, the baseline model) that forks one child at a time to
# run cases; a child that crashes or is killed for hanging is replaced by a new fork in milliseconds.
def _worker_main(memory_mb: int, warm: bool) -> None:
    """Warm up, then fork children that answer cases; report each child's death and fork the next."""
    out = os.dup(1)
    os.dup2(2, 1)  # stray prints go to stderr, not into the answers
    import warnings

    warnings.simplefilter("ignore")
    if warm:  # imports, the baseline model and allocator arenas count before the limit, not against a case
        name, text = cif_seeds()[0]
        archive = zip_archive([deflated(name, text.encode())])
        run_case("zip", {"archive": archive, "names": [name], "good": {name: text}})
    while True:
        pid = os.fork()
        if pid == 0:
            _serve(out, memory_mb)
        status = os.waitpid(pid, 0)[1]
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:  # stdin closed: the run is over
            return
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        _send(out, ("died", f"worker died (exit {code})", 0.0, 0.0))


def _serve(out: int, memory_mb: int) -> None:
    """The child: read pickled (kind, payload) cases, answer (category, detail, seconds, peak MB)."""
    import resource

    limit = _vm_bytes() + memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    _send(out, ("ready", str(os.getpid()), 0.0, 0.0))
    while True:
        header = _read_exact(0, 8)
        if header is None:
            os._exit(0)
        kind, payload = pickle.loads(_read_exact(0, struct.unpack("<Q", header)[0]))
        _reset_peak()
        rss, start = _rss_mb("VmRSS"), time.perf_counter()
        try:
            category, detail = run_case(kind, payload)
        except MemoryError:
            category, detail = "memory", f"MemoryError above {memory_mb} MB"
        _send(out, (category, detail, time.perf_counter() - start, max(0.0, _rss_mb("VmHWM") - rss)))


def _read_exact(fd: int, n: int) -> bytes | None:
    """Exactly `n` bytes from `fd` (unbuffered, so nothing is read ahead); None at end of input."""
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _send(fd: int, message: tuple) -> None:
    blob = pickle.dumps(message)
    blob = struct.pack("<Q", len(blob)) + blob
    while blob:
        blob = blob[os.write(fd, blob):]


def _vm_bytes() -> int:
    return int(_rss_mb("VmSize") * 2**20)


def _rss_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> None:
    """Reset VmHWM (peak RSS) so it measures the next case only (Linux; ignored where refused)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


class Worker:
    """A worker process; run() returns (category, detail, seconds, peak MB), a crash or hang included."""

    def __init__(self, timeout: float = TIMEOUT_S, memory_mb: int = MEMORY_MB, warm: bool = True):
        self.timeout, self.memory_mb, self.warm = timeout, memory_mb, warm
        self.process, self.child, self.buffer = None, 0, b""
        self.starts = 0  # children started (the first one and every replacement)

    def run(self, kind: str, payload) -> tuple[str, str, float, float]:
        if self.process is None:
            self._start()
        blob = pickle.dumps((kind, payload))
        self.process.stdin.write(struct.pack("<Q", len(blob)) + blob)
        self.process.stdin.flush()
        try:
            answer = self._next(self.timeout)
        except RuntimeError as exc:  # the worker's parent itself died: start afresh at the next case
            self.process = None
            return "crash", str(exc), 0.0, 0.0
        if answer is None:  # hung: kill the child; its parent reports the death and forks the next one
            os.kill(self.child, 9)
            while answer is None or answer[0] != "died":
                answer = self._next(60.0)
            answer = ("hang", f"no answer within {self.timeout:g} s", self.timeout, 0.0)
        if answer[0] in ("died", "hang"):
            self._ready()
        return ("crash", *answer[1:]) if answer[0] == "died" else answer

    def _start(self) -> None:
        env = dict(os.environ, MALLOC_ARENA_MAX="2", OMP_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        command = [sys.executable, __file__, "--worker", "--memory-mb", str(self.memory_mb)]
        self.process = subprocess.Popen(command + ([] if self.warm else ["--cold"]), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.buffer = b""
        self._ready()

    def _ready(self) -> None:
        answer = self._next(300.0)
        if answer is None or answer[0] != "ready":
            raise RuntimeError(f"the fuzz worker did not start: {answer}")
        self.child, self.starts = int(answer[1]), self.starts + 1

    def _next(self, timeout: float) -> tuple | None:
        """The next message from the worker, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.buffer) < 8 or len(self.buffer) < 8 + struct.unpack("<Q", self.buffer[:8])[0]:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                return None
            chunk = os.read(self.process.stdout.fileno(), 1 << 20)
            if not chunk:
                raise RuntimeError(f"the fuzz worker exited (code {self.process.wait()})")
            self.buffer += chunk
        size = struct.unpack("<Q", self.buffer[:8])[0]
        message, self.buffer = pickle.loads(self.buffer[8:8 + size]), self.buffer[8 + size:]
        return message

    def close(self) -> None:
        if self.process is not None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


# -- the long run -------------------------------------------------------------------------------------
GENERATORS: dict[str, Callable[[random.Random], Case]] = {
    "formula": formula_case, "cif": cif_case, "poscar": poscar_case, "zip": zip_case}


def plan(cases: int, seed: int) -> list[tuple[str, int]]:
    """(kind, index) of every case, split by MIX and interleaved."""
    per_kind = {kind: round(cases * share) for kind, share in MIX.items()}
    order = [(kind, i) for kind, n in per_kind.items() for i in range(n)]
    random.Random(seed).shuffle(order)
    return order


def make_case(kind: str, index: int, seed: int) -> Case:
    """The reproducible case number `index` of `kind`."""
    return GENERATORS[kind](random.Random(f"{seed}:{kind}:{index}"))


class Tally:
    """Counts per kind and category, the slowest case and largest memory peak per kind, a few examples."""

    def __init__(self):
        self.counts = {kind: Counter() for kind in KINDS}
        self.examples: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.slowest, self.peak = Counter(), Counter()
        self.lock = threading.Lock()

    def add(self, case: Case, index: int, answer: tuple[str, str, float, float]) -> None:
        category, detail, seconds, peak_mb = answer
        with self.lock:
            self.counts[case.kind][category] += 1
            self.slowest[case.kind] = max(self.slowest[case.kind], seconds)
            self.peak[case.kind] = max(self.peak[case.kind], peak_mb)
            if category in FAILURES and len(self.examples[case.kind, category]) < 3:
                example = f"#{index} {case.label[:120]} | input {excerpt(case.payload)} | {detail[:160]}"
                self.examples[case.kind, category].append(example)

    def failures(self) -> int:
        return sum(self.counts[kind][category] for kind in KINDS for category in FAILURES)


def fuzz(cases: int, workers: int, seed: int, timeout: float, memory_mb: int) -> tuple[Tally, float, int]:
    """Run the cases on `workers` worker processes: the tally, the seconds taken and the worker starts."""
    from concurrent.futures import ThreadPoolExecutor

    tally, order, started = Tally(), plan(cases, seed), time.monotonic()
    pool = [Worker(timeout, memory_mb) for _ in range(workers)]

    def work(w: int) -> None:
        for kind, index in order[w::workers]:
            case = make_case(kind, index, seed)
            tally.add(case, index, pool[w].run(case.kind, case.payload))

    try:
        with ThreadPoolExecutor(workers) as threads:
            list(threads.map(work, range(workers)))
    finally:
        for worker in pool:
            worker.close()
    return tally, time.monotonic() - started, sum(w.starts for w in pool)


def excerpt(payload) -> str:
    """A short printable form of a case's input."""
    if isinstance(payload, dict) and "archive" in payload:
        return f"<zip of {len(payload['archive'])} bytes>"
    if isinstance(payload, (str, bytes)):
        return repr(payload[:60]) + ("…" if len(payload) > 60 else "")
    return repr(payload)


def report(tally: Tally, seconds: float, starts: int, cases: int, seed: int) -> str:
    """The counts table, the slowest case and largest memory peak per kind, and a few failure examples."""
    header = ["kind", "tried", *CATEGORIES, "max s", "max MB"]
    rows = [header]
    for kind in KINDS:
        c = tally.counts[kind]
        rows.append([kind, str(sum(c.values())), *(str(c[k]) for k in CATEGORIES),
                     f"{tally.slowest[kind]:.2f}", f"{tally.peak[kind]:.0f}"])
    total = sum(tally.counts.values(), Counter())
    rows.append(["total", str(sum(total.values())), *(str(total[k]) for k in CATEGORIES), "", ""])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [f"fuzz: {cases} cases, seed {seed}, {seconds:.0f} s, {starts} worker starts"]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in rows]
    for (kind, category), found in sorted(tally.examples.items()):
        lines.append(f"{kind} / {category}:")
        lines += [f"  {example}" for example in found]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="total cases over all kinds")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per case")
    parser.add_argument("--memory-mb", type=int, default=MEMORY_MB, help="memory per case above the idle worker")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker_main(args.memory_mb, warm=not args.cold)
        return 0
    tally, seconds, starts = fuzz(args.cases, args.workers, args.seed, args.timeout, args.memory_mb)
    print(report(tally, seconds, starts, args.cases, args.seed))
    return 1 if tally.failures() else 0


if __name__ == "__main__":
    sys.exit(main())
