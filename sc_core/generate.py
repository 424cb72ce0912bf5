"""Hypothetical compositions from an element set: every reduced integer stoichiometry of 2-4 of the elements up to
a formula-unit size, kept where smact finds oxidation states that make it charge-neutral with every cation less
electronegative than every anion (smact's default ICSD24 oxidation states and Pauling test).

Compositions are yielded one at a time in a fixed order (arity, then element set, then stoichiometry), each reduced
formula once, so that millions of them never sit in memory. Within a formula the elements are in order of Pauling
electronegativity (MgB2, Nb3Sn), as the element sets are.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Iterator, Sequence
from functools import cache

import numpy as np
import smact
from smact.screening import ICSD24FilterConfig
from smact.utils.oxidation import ICSD24OxStatesFilter

from sc_core.elements import symbols
from sc_core.io import InputError, quote

ARITIES = {2: "binaries", 3: "ternaries", 4: "quaternaries"}
MAX_ATOMS = 30  # the most atoms per formula unit that may be asked for (a quaternary has 27,405 ratios up to 30)
PATTERN_BLOCK = 128  # oxidation-state patterns checked against all ratios at once (27,405 x 128 sums: 28 MB)


def check_options(elements: Sequence[str], arity: Sequence[int], max_atoms: int) -> list[str]:
    """The distinct `elements` in electronegativity order; InputError for an unknown symbol, an empty set, an arity
    outside 2-4, fewer elements than the largest arity or a formula-unit size that is too small or too large."""
    chosen = check_elements(elements)
    check_limits(arity, max_atoms)
    largest = max(arity)
    if len(chosen) < largest:
        raise InputError(f"{len(chosen)} element{'s' * (len(chosen) != 1)} cannot make {ARITIES[largest]}; "
                         f"choose at least {largest} elements or a smaller arity.")
    return chosen


def check_elements(elements: Sequence[str]) -> list[str]:
    """The distinct `elements` in electronegativity order; InputError for an unknown symbol or an empty set."""
    known = {s.lower(): s for s in symbols()}
    chosen = list(dict.fromkeys(e.strip() for e in elements if e.strip()))
    if not chosen:
        raise InputError("The element set is empty; name the elements to combine, e.g. Nb,Sn,Ge.")
    for symbol in chosen:
        if symbol not in known.values():
            hint = f" (did you mean {known[symbol.lower()]}?)" if symbol.lower() in known else ""
            raise InputError(f"Unknown element {quote(symbol)}{hint}; write element symbols from H to Lr, "
                             "such as Nb or Sn.")
    return ordered(chosen)


def check_limits(arity: Sequence[int], max_atoms: int) -> None:
    """InputError for an arity outside 2-4 or a formula-unit size too small for it or above MAX_ATOMS."""
    if not arity or any(k not in ARITIES for k in arity):
        raise InputError(f"The arity must be 2 (binaries), 3 (ternaries) or 4 (quaternaries), not "
                         f"{','.join(map(str, arity)) or 'empty'}.")
    largest = max(arity)
    if not largest <= max_atoms <= MAX_ATOMS:
        raise InputError(f"The most atoms per formula unit must be from {largest} (the smallest of the "
                         f"{ARITIES[largest]}) to {MAX_ATOMS}, not {max_atoms}.")


def ordered(elements: Iterable[str]) -> list[str]:
    """`elements` in order of Pauling electronegativity, then atomic number: as they are written in a formula."""
    return sorted(elements, key=lambda s: (_electronegativity(s), symbols().index(s)))


def formula(elements: Sequence[str], ratio: Sequence[int]) -> str:
    """The formula of `ratio` atoms of `elements`, in that order (``Nb3Sn``: amounts of 1 are not written)."""
    return "".join(e if n == 1 else f"{e}{n}" for e, n in zip(elements, ratio))


def compositions(elements: Sequence[str], arity: Sequence[int] = (2, 3), max_atoms: int = 8,
                 alloys: bool = False) -> Iterator[str]:
    """Reduced formulas of every charge-neutral, electronegativity-balanced composition of `arity` of `elements`
    with at most `max_atoms` atoms per formula unit (see the module docstring); with `alloys`, also every ratio of
    metals only (smact's ``include_alloys``), charged or not. Checks the options first (:func:`check_options`)."""
    chosen = check_options(elements, arity, max_atoms)
    for k in sorted(set(arity)):
        ratios = stoichiometries(k, max_atoms)
        for combo in itertools.combinations(chosen, k):
            for ratio in ratios[allowed(combo, ratios, alloys)]:
                yield formula(combo, ratio.tolist())


def allowed(combo: Sequence[str], ratios: np.ndarray, alloys: bool = False) -> np.ndarray:
    """Which of the (m, k) `ratios` of the elements `combo` are kept: the charge-neutral ones (:func:`neutral` with
    :func:`charge_patterns`), or with `alloys` every one where all the elements are metals (smact's list)."""
    if alloys and all(e in smact.metals for e in combo):
        return np.ones(len(ratios), dtype=bool)
    return neutral(ratios, charge_patterns(combo))


def neutral(ratios: np.ndarray, charges: np.ndarray) -> np.ndarray:
    """Which of the (m, k) `ratios` some of the (c, k) oxidation-state `charges` make charge-neutral, PATTERN_BLOCK
    patterns at a time."""
    keep = np.zeros(len(ratios), dtype=bool)
    for start in range(0, len(charges), PATTERN_BLOCK):
        keep |= (ratios @ charges[start : start + PATTERN_BLOCK].T == 0).any(axis=1)
    return keep


@cache
def stoichiometries(k: int, max_atoms: int) -> np.ndarray:
    """(m, k) positive integer ratios of at most `max_atoms` atoms in lowest terms (NbSn, not Nb2Sn2), in
    lexicographic order."""
    grid = itertools.product(range(1, max_atoms - k + 2), repeat=k)
    rows = [r for r in grid if sum(r) <= max_atoms and np.gcd.reduce(r) == 1]
    return np.array(rows, dtype=np.int64).reshape(-1, k)


def charge_patterns(combo: Sequence[str]) -> np.ndarray:
    """(c, k) oxidation states of the elements of `combo` (smact's ICSD24 sets) that pass the Pauling test: every
    cation less electronegative than every anion. Empty when an element has no oxidation state or no Pauling
    electronegativity (smact then fails the composition too)."""
    states = [_oxidation_states().get(e) for e in combo]
    negativity = [_electronegativity(e) for e in combo]
    if any(s is None for s in states) or not all(np.isfinite(negativity)):
        return np.zeros((0, len(combo)), dtype=np.int64)
    grid = np.array(list(itertools.product(*states)), dtype=np.int64)  # type: ignore[arg-type]
    ok = np.ones(len(grid), dtype=bool)
    for i, j in itertools.combinations(range(len(combo)), 2):
        a, b = grid[:, i], grid[:, j]
        ok &= ~(((a > 0) & (b < 0) & (negativity[i] >= negativity[j]))
                | ((a < 0) & (b > 0) & (negativity[i] <= negativity[j])))
    return np.unique(grid[ok], axis=0)


@cache
def _oxidation_states() -> dict[str, list[int]]:
    """Element → oxidation states, as ``smact.screening.smact_validity`` reads them by default (ICSD24)."""
    config = ICSD24FilterConfig()
    table = ICSD24OxStatesFilter().filter(consensus=config.consensus, include_zero=config.include_zero,
                                          commonality=config.commonality)
    return {str(e): [int(x) for x in str(s).split()] for e, s in zip(table["element"], table["oxidation_state"])}


@cache
def _electronegativity(symbol: str) -> float:
    """Pauling electronegativity of `symbol` from smact's table; inf where it has none (noble gases)."""
    with warnings.catch_warnings():  # smact warns for the elements it has no value for
        warnings.simplefilter("ignore")
        value = smact.Element(symbol).pauling_eneg
    return float("inf") if value is None or not np.isfinite(value) else float(value)
