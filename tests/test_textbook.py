"""sc_core.data.textbook: the textbook sanity crystals build as the crystals they are named after."""

import pytest
from pymatgen.core import Composition

from sc_core import io
from sc_core.data.textbook import CRYSTALS, textbook_crystals

BUILT = textbook_crystals()


@pytest.mark.parametrize("crystal, structure", BUILT, ids=[c.name for c in CRYSTALS])
def test_each_crystal_is_its_formula_in_its_space_group(crystal, structure):
    assert structure.composition.fractional_composition.almost_equals(Composition(crystal.name).fractional_composition)
    assert structure.get_space_group_info(symprec=0.01)[0] == crystal.space_group
    io.check_structure(structure)  # the same sanity gate as an uploaded file: plausible distances, cell
    assert crystal.source and crystal.prototype


def test_the_set_covers_the_prototypes_and_the_classic_superconductors():
    insulators = [c for c in CRYSTALS if not c.superconductor]
    assert len(insulators) >= 15
    assert {"rock-salt", "fluorite", "corundum", "rutile", "wurtzite", "zinc-blende", "CsCl-type", "cubic perovskite",
            "alpha-quartz"} <= {c.prototype for c in insulators}
    assert {c.name for c in CRYSTALS if c.superconductor} == {"MgB2", "Nb3Sn", "NbN", "YBa2Cu3O7", "LaFeAsO0.9F0.1"}
