"""Hypothetical compositions by substitution into known superconductors: one element of a SuperCon superconductor
of whole-number stoichiometry (Nb3Ge, MgB2; not La1.85Sr0.15CuO4) replaced by another element of its group of the
periodic table (pymatgen's; the lanthanides and actinides count as group 3) from the chosen set, kept where smact
finds the result charge-neutral as :mod:`sc_core.generate` judges it.

Substitutions are yielded one at a time in a fixed order (parent formula, then the replaced element, then the
substitute, both in formula order), each reduced formula once: a set of those yielded is kept, so memory grows with
the output (at most SuperCon's superconductors times their elements times the chosen ones), not beyond.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache

import numpy as np
from pymatgen.core import Composition, Element

from sc_core import data
from sc_core.generate import allowed, check_elements, check_limits, formula, ordered

WHOLE = 1e-6  # an amount this close to a whole number is one


@cache
def parents(max_atoms: int) -> tuple[dict[str, int], ...]:
    """SuperCon's superconductors (Tc > 0) as reduced whole-number formula units of at most `max_atoms` atoms
    (element → count), each once, in the order of their formulas."""
    found: dict[str, dict[str, int]] = {}
    for text in data.load_supercon().query("tc > 0")["formula"]:
        comp = Composition(text).reduced_composition
        counts = {el.symbol: round(n) for el, n in comp.items()}
        if all(abs(n - round(n)) < WHOLE for n in comp.values()) and 0 < sum(counts.values()) <= max_atoms:
            found.setdefault(formula(ordered(counts), [counts[e] for e in ordered(counts)]), counts)
    return tuple(found[key] for key in sorted(found))


def substitutions(elements: Sequence[str], arity: Sequence[int] = (2, 3), max_atoms: int = 8,
                  alloys: bool = False) -> Iterator[str]:
    """Reduced formulas of the charge-neutral single-element substitutions of `elements` into SuperCon's
    superconductors of `arity` elements and at most `max_atoms` atoms (see the module docstring); `alloys` as for
    :func:`sc_core.generate.compositions`. Checks the options first."""
    chosen = check_elements(elements)
    check_limits(arity, max_atoms)
    seen: set[str] = set()
    for counts in parents(max_atoms):
        if len(counts) not in arity:
            continue
        for old in ordered(counts):
            for new in chosen:
                if new in counts or Element(new).group != Element(old).group:
                    continue
                swapped = {new if e == old else e: n for e, n in counts.items()}
                combo = ordered(swapped)
                ratio = np.array([[swapped[e] for e in combo]])
                text = formula(combo, ratio[0].tolist())
                if text not in seen and allowed(combo, ratio, alloys)[0]:
                    seen.add(text)
                    yield text
