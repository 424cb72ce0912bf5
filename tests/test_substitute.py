"""Substitution into known superconductors: one element swapped for one of its group, charge-neutral, each once."""

import pytest
from pymatgen.core import Composition, Element
from smact.screening import smact_validity

from sc_core import InputError
from sc_core.substitute import parents, substitutions

CHOSEN = ["Si", "Ge", "Sn", "Ca", "Sr", "Ba", "Ta", "V"]


@pytest.fixture(scope="module")
def substituted() -> list[str]:
    return list(substitutions(CHOSEN, (2, 3), 6))


def counts(text: str) -> dict[str, int]:
    return {el.symbol: int(n) for el, n in Composition(text).items()}


def test_each_is_a_known_superconductor_with_one_element_of_its_group_swapped_in(substituted):
    known = [set(p.items()) for p in parents(6)]
    assert len(substituted) > 100 and {"Nb3Si", "Ta3Sn", "V3Ge"} <= set(substituted)  # from Nb3Sn and V3Si
    for text in substituted:
        items = set(counts(text).items())
        swaps = [(items - parent, parent - items) for parent in known if len(parent) == len(items)]
        assert any(len(new) == len(old) == 1 and next(iter(new))[0] in CHOSEN
                   and next(iter(new))[1] == next(iter(old))[1]
                   and Element(next(iter(new))[0]).group == Element(next(iter(old))[0]).group
                   for new, old in swaps), text


def test_every_substitution_is_charge_neutral_and_comes_once(substituted):
    assert all(smact_validity(f, include_alloys=False) for f in substituted)
    reduced = [Composition(f).reduced_formula for f in substituted]
    assert len(set(reduced)) == len(reduced)
    assert list(substitutions(list(reversed(CHOSEN)), (3, 2), 6)) == substituted
    assert {len(Composition(f)) for f in substituted} == {2, 3}
    assert max(Composition(f).num_atoms for f in substituted) <= 6


def test_parents_are_whole_number_superconductors():
    found = parents(8)
    assert {"Nb": 3, "Sn": 1} in found and {"V": 3, "Si": 1} in found and all(sum(p.values()) <= 8 for p in found)
    assert not any(set(p) == {"La", "Sr", "Cu", "O"} for p in found)  # La1.85Sr0.15CuO4 is doped, not whole


@pytest.mark.parametrize("elements, arity, max_atoms, message", [
    (["Xx"], (2,), 8, "Unknown element 'Xx'"),
    ([], (2,), 8, "element set is empty"),
    (["Si"], (6,), 8, "arity must be 2"),
    (["Si"], (2,), 99, "to 30, not 99"),
])
def test_bad_options_are_explained(elements, arity, max_atoms, message):
    with pytest.raises(InputError, match=message):
        next(substitutions(elements, arity, max_atoms))
