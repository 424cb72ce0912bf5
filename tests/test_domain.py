"""sc_core.domain: known superconductors lie inside SuperCon's domain; unlike materials lie outside."""

import numpy as np
from pymatgen.core import Composition

from sc_core import data, domain


def test_supercon_lies_inside_at_the_stated_coverage():
    built = domain.supercon_domain()
    assert built.components.shape[1] == 138 and 5 <= built.components.shape[0] < 138
    sample = data.load_supercon().sample(n=300, random_state=0)["formula"]
    inside = domain.assess([Composition(f) for f in sample])["in_domain"]
    assert inside.mean() >= domain.COVERAGE  # each entry is its own nearest composition here: at least the coverage


def test_classics_inside_unlike_materials_outside_and_unreadable_rows_blank():
    rows = domain.assess([Composition("MgB2"), Composition("YBa2Cu3O7"), Composition("H2O"), Composition("CsCl"),
                          None])
    assert rows["in_domain"].tolist()[:4] == [True, True, False, False] and rows["in_domain"].isna().tolist()[4]
    assert np.isnan(rows["domain_distance"].iloc[4]) and rows["domain_distance"].iloc[2] > domain.supercon_domain(
        ).threshold
    inside, note = domain.describe(Composition("H2O"))
    assert not inside and "unknown, not as no" in note
    assert domain.describe(Composition("MgB2"))[0]


def test_compositions_held_out_at_random_lie_inside_at_about_the_coverage():
    """The threshold is calibrated: unseen compositions from the training distribution fall inside at about
    COVERAGE (benchmarks/domain.py --calibrate measures it on all of SuperCon: 0.953 at 0.95)."""
    formulas = data.load_supercon().drop_duplicates("formula").sample(n=3000, random_state=1)["formula"]
    comps = [Composition(f) for f in formulas]
    held = np.random.default_rng(0).random(len(comps)) < 0.15
    built = domain.build([c for c, h in zip(comps, held) if not h])
    inside = built.distance([c for c, h in zip(comps, held) if h]) <= built.threshold
    assert abs(inside.mean() - domain.COVERAGE) < 0.04, inside.mean()
