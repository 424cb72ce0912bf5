"""Candidate generation: charge-neutral compositions of an element set, each once, in a fixed order."""

import itertools
import time

import pytest
from pymatgen.core import Composition
from smact.screening import smact_validity

from sc_core import InputError
from sc_core.elements import symbols
from sc_core.generate import check_options, compositions, stoichiometries

ELEMENTS = ["Nb", "Sn", "Mg", "B", "O", "La", "Cu", "Se"]


def every_ratio(elements: list[str], arity: tuple[int, ...], max_atoms: int) -> list[str]:
    """Every formula of `arity` of `elements` with up to `max_atoms` atoms, unfiltered (duplicates included)."""
    out = []
    for k in arity:
        for combo in itertools.combinations(elements, k):
            for ratio in itertools.product(range(1, max_atoms + 1), repeat=k):
                if sum(ratio) <= max_atoms:
                    out.append("".join(f"{e}{n}" for e, n in zip(combo, ratio)))
    return out


@pytest.fixture(scope="module")
def generated() -> list[str]:
    return list(compositions(ELEMENTS, (2, 3), 6))


def test_exactly_the_compositions_smact_finds_charge_neutral(generated):
    """Every output passes smact's own check (charge neutrality with the Pauling test, no alloy shortcut), and every
    reduced ratio that passes it is output."""
    assert generated and all(smact_validity(f, include_alloys=False) for f in generated)
    reduced = {Composition(f).reduced_formula for f in every_ratio(ELEMENTS, (2, 3), 6)}
    assert {Composition(f).reduced_formula for f in generated} == {f for f in reduced if smact_validity(
        f, include_alloys=False)}
    assert {"MgB2", "LaCuO2", "MgO", "Nb3Sn"} <= set(generated)  # Nb3Sn: Sn can be -3 in smact's ICSD24 states
    assert not {"MgNb", "Mg2O", "MgO3"} & set(generated)  # no anion; too little or too much oxygen


def test_each_reduced_formula_once_within_the_limits(generated):
    reduced = [Composition(f).reduced_formula for f in generated]
    assert len(set(reduced)) == len(reduced)
    assert all(Composition(f) == Composition(f).reduced_composition for f in generated)  # Mg2O2 would not be
    assert {len(Composition(f)) for f in generated} == {2, 3}
    assert max(Composition(f).num_atoms for f in generated) == 6


def test_order_is_fixed_and_ignores_how_the_elements_are_given(generated):
    again = list(compositions(["Se", *reversed(ELEMENTS), "Nb", " O "], (3, 2), 6))
    assert again == generated
    sizes = [len(Composition(f)) for f in generated]
    assert sizes == sorted(sizes)  # binaries, then ternaries
    assert generated.index("MgB2") < generated.index("MgO") < generated.index("MgO2")  # element set, then ratio


def test_arity_and_max_atoms():
    quaternaries = list(compositions(ELEMENTS, (4,), 5))
    assert quaternaries and all(len(Composition(f)) == 4 and Composition(f).num_atoms <= 5 for f in quaternaries)
    assert stoichiometries(2, 4).tolist() == [[1, 1], [1, 2], [1, 3], [2, 1], [3, 1]]  # no 2:2


def test_alloys_keep_every_ratio_of_metals():
    """Mg and Nb have no negative oxidation state: no Mg-Nb ratio is charge-neutral, every one is an alloy."""
    assert list(compositions(["Mg", "Nb", "O"], (2,), 4)) == ["MgO", "MgO2", "NbO", "NbO2", "NbO3", "Nb2O"]
    alloys = list(compositions(["Mg", "Nb", "O"], (2,), 4, alloys=True))
    assert alloys[:5] == ["MgNb", "MgNb2", "MgNb3", "Mg2Nb", "Mg3Nb"]
    assert all(smact_validity(f, include_alloys=True) for f in alloys)


def test_enumeration_is_lazy():
    """The first compositions of an enumeration of many billions come at once: nothing is collected first."""
    start = time.perf_counter()
    first = list(itertools.islice(compositions(symbols()[:80], (2, 3, 4), 30), 1000))
    assert len(first) == 1000 and time.perf_counter() - start < 5


@pytest.mark.parametrize("elements, arity, max_atoms, message", [
    ([], (2,), 8, "element set is empty"),
    (["", " "], (2,), 8, "element set is empty"),
    (["Nb", "Xx"], (2,), 8, "Unknown element 'Xx'"),
    (["nb", "Sn"], (2,), 8, r"did you mean Nb\?"),
    (["D", "O"], (2,), 8, "Unknown element 'D'"),  # pymatgen reads D as hydrogen; a generated pool must not
    (["Nb", "Sn"], (5,), 8, "arity must be 2 .* not 5"),
    (["Nb", "Sn"], (1, 2), 8, "not 1,2"),
    (["Nb", "Sn"], (), 8, "not empty"),
    (["Nb", "Sn"], (2, 3), 8, "2 elements cannot make ternaries"),
    (["Nb", "Sn", "O", "B"], (4,), 3, "from 4 .* to 30, not 3"),
    (["Nb", "Sn"], (2,), 10_000, "to 30, not 10000"),
])
def test_bad_options_are_explained(elements, arity, max_atoms, message):
    with pytest.raises(InputError, match=message):
        check_options(elements, arity, max_atoms)
    with pytest.raises(InputError, match=message):
        next(compositions(elements, arity, max_atoms))
