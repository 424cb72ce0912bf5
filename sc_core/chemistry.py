"""Composition bookkeeping shared by data, features, screening and pages: keys, systems, formulas as shown, families,
majority species (a leaf: imports nothing of ours)."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence

import numpy as np
from pymatgen.core import Composition, Element
from pymatgen.core.periodic_table import get_el_sp
from pymatgen.util.string import formula_double_format

from sc_core.elements import symbols

FAMILIES = ("cuprate", "iron-based", "hydride", "other")
_PNICTOGENS_CHALCOGENS = tuple(Element(symbol).Z for symbol in ("P", "As", "Sb", "S", "Se", "Te"))
_LAST_Z = 118  # pymatgen's heaviest element, Og
AMOUNT_TOLERANCE = 1e-8  # an amount this close to a whole number is one (as pymatgen reduces formulas)


def composition_key(comp: Composition, decimals: int = 3) -> str:
    """Scale-free key: atomic fractions rounded to `decimals`, elements in alphabetical order.

    Two formulas for the same material (``Nb3Sn`` and ``Nb3Sn1``, ``Ba2Cu1`` and ``BaCu0.5``) share a key.
    """
    frac = comp.fractional_composition
    parts = sorted((el.symbol, round(amount, decimals)) for el, amount in frac.items())
    return " ".join(f"{symbol}{amount:g}" for symbol, amount in parts if amount > 0)


def chemical_system(comp: Composition) -> str:
    """Element set in alphabetical order joined by '-', e.g. ``Ba-Cu-O-Y``."""
    return "-".join(sorted(el.symbol for el, amount in comp.items() if amount > 0))


def display_formula(comp: Composition | str, reorder: bool = False, reduce: bool = True) -> str:
    """A formula as chemists write it, for showing only (tables keep theirs for matching): whole-number amounts
    reduced (Nb6Sn2 → Nb3Sn, Mg1B2 → MgB2; not with `reduce` off, for a formula the user typed: K3C60 stays),
    fractional ones kept (La1.85Sr0.15CuO4), no spaces, no '1' subscripts, no brackets.

    Elements stay in the order given (a typed formula's, YBa2Cu3O7; a table's); with `reorder` (a structure's
    composition, in the order of its sites) they come in IUPAC order (Table VI of the 2005 Red Book: MgB2, H3S,
    La2CuO4, Sr2CuO2Cl2, but Ba2YCu3O7), or in Hill order (C, H, then A to Z) when there are both C and H. A text
    that does not parse comes back as it is.
    """
    if isinstance(comp, str):
        return _display_text(comp, reduce)
    amounts = comp.get_el_amt_dict()
    if reduce and all(math.isclose(x, round(x), abs_tol=AMOUNT_TOLERANCE) for x in amounts.values()):
        factor = math.gcd(*(round(x) for x in amounts.values()))  # not pymatgen's: 2.5x faster on COD
        amounts = {symbol: x / factor for symbol, x in amounts.items()}
    symbols = list(amounts)
    if reorder and {"C", "H"} <= amounts.keys():
        symbols = ["C", "H", *sorted(amounts.keys() - {"C", "H"})]
    elif reorder:
        symbols.sort(key=lambda symbol: get_el_sp(symbol).iupac_ordering)
    return "".join(f"{symbol}{formula_double_format(amounts[symbol])}" for symbol in symbols)


@functools.lru_cache(maxsize=2**18)  # a screened pool's formulas are shown on every rerun of the Candidates page
def _display_text(formula: str, reduce: bool = True) -> str:
    try:
        return display_formula(Composition(formula), reduce=reduce)
    except ValueError:
        return formula


_SYMBOL = re.compile(r"[A-Z][a-z]?")
_FORMULA = re.compile(r"(?:[A-Z][a-z]?[\d.]*)+")


@functools.lru_cache(maxsize=2**16)
def _symbols(formula: str) -> frozenset[str]:
    return frozenset(_SYMBOL.findall(formula))


@functools.lru_cache(maxsize=2**16)
def _fractions(formula: str) -> dict[str, float]:
    try:
        return Composition(formula).fractional_composition.get_el_amt_dict()
    except (ValueError, KeyError):
        return {}


def search(query: str, texts: Sequence[str]) -> list[int]:
    """Indices of `texts` (formulas, or labels that start with one) matching `query`. A formula (Nb3Sn) matches
    every text holding all its elements, the fewest other elements first and then the closest in atomic fractions
    (Nb3Sn, Nb0.75Sn0.25, then NbSn3 …, then Nb3Al0.1Sn0.9); spaces in it are ignored. Any other query (an MP id,
    lower case) matches as case-insensitive text."""
    formula = query.replace(" ", "")
    wanted = _symbols(formula)
    if _FORMULA.fullmatch(formula) and wanted <= set(symbols()):
        target = _fractions(formula)
        heads = [text.split(" ", 1)[0] for text in texts]
        hits = [i for i, head in enumerate(heads) if wanted <= _symbols(head)]

        def closeness(i: int) -> tuple[int, float]:
            have = _fractions(heads[i])
            return len(have), sum(abs(have.get(e, 0.0) - target.get(e, 0.0)) for e in have.keys() | target.keys())

        return sorted(hits, key=closeness)
    needle = query.lower()
    return [i for i, text in enumerate(texts) if needle in text.lower()]


def majority_species(species: Composition):
    """The species with the largest occupancy on a site (ties: the first listed)."""
    return max(species.items(), key=lambda kv: kv[1])[0]


def majority_element(species: Composition) -> str:
    """Symbol of :func:`majority_species`."""
    sp = majority_species(species)
    return getattr(sp, "symbol", str(sp))


def family(comp: Composition) -> str:
    """Superconductor family from composition alone (:func:`families` of one composition)."""
    elements = [el for el, amount in comp.items() if amount > 0]
    z = np.array([el.Z for el in elements], dtype=np.int64).reshape(1, -1)
    x = np.array([comp.get_atomic_fraction(el) for el in elements], dtype=float).reshape(1, -1)
    return str(families(z, x)[0])


def families(z: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Superconductor family of each row of padded atomic numbers `z` (0 = padding) and atomic fractions `x`.

    cuprate: Cu and O; iron-based: Fe with a pnictogen or chalcogen (As, P, Sb, S, Se, Te);
    hydride: H at least half of the atoms, no C; other: everything else.
    """
    def has(*numbers: int) -> np.ndarray:
        return np.asarray(np.isin(z, numbers).any(axis=1))

    hydrogen = np.where(z == 1, x, 0.0).sum(axis=1)
    return np.select([has(29) & has(8), has(26) & has(*_PNICTOGENS_CHALCOGENS), has(1) & ~has(6) & (hydrogen >= 0.5)],
                     ["cuprate", "iron-based", "hydride"], "other").astype(object)


def chemical_systems(z: np.ndarray) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """The element sets of the rows of padded atomic numbers `z` (0 = padding): each row's index into the list of
    distinct sets, and that list, each set's symbols in alphabetical order (as :func:`chemical_system` has them)."""
    order = alphabetical_rank()
    ranks = np.sort(order[z], axis=1)  # padding ranks last
    distinct, inverse = np.unique(ranks, axis=0, return_inverse=True)
    by_rank = _alphabetical_symbols()
    return inverse.reshape(-1), [tuple(by_rank[r] for r in row if r < len(by_rank)) for row in distinct.tolist()]


@functools.lru_cache(maxsize=1)
def _alphabetical_symbols() -> tuple[str, ...]:
    """The symbols of Z = 1-118 in alphabetical order."""
    return tuple(sorted(Element.from_Z(z).symbol for z in range(1, _LAST_Z + 1)))


@functools.lru_cache(maxsize=1)
def alphabetical_rank() -> np.ndarray:
    """(119,) each Z's place in :func:`_alphabetical_symbols` (Z = 0, padding: after every symbol)."""
    rank = np.full(_LAST_Z + 1, _LAST_Z, dtype=np.int64)
    rank[1:] = [_alphabetical_symbols().index(Element.from_Z(z).symbol) for z in range(1, _LAST_Z + 1)]
    return rank


# Leave-one-family-out families (first rule that matches wins); "other" is never held out as a family
DISCOVERY_FAMILIES = ("cuprate", "iron-based", "nickelate", "hydride", "heavy-fermion", "A15", "boride-carbide",
                      "chalcogenide")
_HEAVY_FERMION = {"Ce", "Yb", "U", "Np", "Pu"}
_A15_A = {"Ti", "Zr", "V", "Nb", "Ta", "Cr", "Mo", "W"}
_CHALCOGENS = {"S", "Se", "Te"}


def discovery_family(comp: Composition) -> str:
    """The family a material is held out with in the leave-one-family-out protocol, from composition alone.

    cuprate, iron-based and hydride as in :func:`family`; nickelate: Ni and O; heavy-fermion: Ce, Yb, U, Np or
    Pu; A15: A3B with A a group 4-6 transition metal (fractions 3:1 within 0.02); boride-carbide: B or C
    (MgB2-like, borocarbides, carbides); chalcogenide: S, Se or Te; other: everything else.
    """
    symbols = {el.symbol for el, amount in comp.items() if amount > 0}
    first = family(comp)
    if first != "other":
        return first
    if {"Ni", "O"} <= symbols:
        return "nickelate"
    if symbols & _HEAVY_FERMION:
        return "heavy-fermion"
    fractions = comp.fractional_composition
    if len(symbols) == 2:
        major = max(fractions.items(), key=lambda kv: kv[1])
        if major[0].symbol in _A15_A and abs(major[1] - 0.75) <= 0.02:
            return "A15"
    if symbols & {"B", "C"}:
        return "boride-carbide"
    if symbols & _CHALCOGENS:
        return "chalcogenide"
    return "other"
