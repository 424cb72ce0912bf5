"""featurize.chgnet: CHGNet's frozen encoder, hash-checked, as a virtual crystal, one answer per crystal."""

import numpy as np
import pytest
from fakes import empty_chgnet_cache  # noqa: F401 (a fixture)
from pymatgen.core import Lattice, Structure

from sc_core import InputError, invariance
from sc_core.featurize import chgnet

pytestmark = pytest.mark.usefixtures("empty_chgnet_cache")

ROCK_SALT = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
A15 = Structure.from_spacegroup("Pm-3n", Lattice.cubic(5.29), ["Nb", "Sn"], [[0.25, 0, 0.5], [0, 0, 0]])


def test_ordered_crystals_get_chgnets_own_atom_features():
    ours = chgnet.site_features([ROCK_SALT, A15])
    for structure, features in zip([ROCK_SALT, A15], ours, strict=True):
        theirs = chgnet.encoder().predict_structure(structure, task="e", return_atom_feas=True,
                                                    return_crystal_feas=True)
        assert features.shape == (len(structure), chgnet.WIDTH)
        np.testing.assert_allclose(features[:, :64], theirs["atom_fea"], atol=1e-5)
        np.testing.assert_allclose(features[:, 64:].sum(0), theirs["crystal_fea"], atol=1e-4)  # CHGNet sums


def test_partial_occupancy_is_a_virtual_crystal():
    full = Structure(Lattice.cubic(3.3), [{"Nb": 1.0}] * 2, [[0, 0, 0], [0.5, 0.5, 0.5]])
    alloy = Structure(Lattice.cubic(3.3), [{"Nb": 0.5, "Ti": 0.5}] * 2, [[0, 0, 0], [0.5, 0.5, 0.5]])
    titanium = Structure(Lattice.cubic(3.3), ["Ti"] * 2, [[0, 0, 0], [0.5, 0.5, 0.5]])
    niobium = Structure(Lattice.cubic(3.3), ["Nb"] * 2, [[0, 0, 0], [0.5, 0.5, 0.5]])
    f_full, f_alloy, f_ti, f_nb = chgnet.site_features([full, alloy, titanium, niobium])
    np.testing.assert_allclose(f_full, f_nb, atol=1e-6)
    assert np.abs(f_alloy - f_nb).max() > 1e-2 and np.abs(f_alloy - f_ti).max() > 1e-2
    weight = chgnet.encoder().atom_embedding.embedding.weight
    inputs = chgnet._occupancies(alloy) @ weight.detach().numpy()  # the vectors the convolutions start from
    np.testing.assert_allclose(inputs, np.tile(0.5 * (weight[40] + weight[21]).detach().numpy(), (2, 1)),
                               atol=1e-6)  # Nb (Z 41) and Ti (Z 22), half each


@pytest.mark.parametrize("structure", [ROCK_SALT, A15], ids=["NaCl", "Nb3Sn"])
def test_pooled_features_do_not_depend_on_how_the_cell_is_written(structure):
    base = chgnet.site_features([structure])[0]
    variants = invariance.rewritings(structure, seed=3)
    for name, features in zip(variants, chgnet.site_features(list(variants.values())), strict=True):
        np.testing.assert_allclose(features.mean(0), base.mean(0), atol=1e-4, err_msg=name)
        np.testing.assert_allclose(features.max(0), base.max(0), atol=1e-4, err_msg=name)


def test_an_atom_far_from_all_others_keeps_its_own_features():
    lone = Structure(Lattice.cubic(7.0), ["Nb"], [[0, 0, 0]])  # nearest neighbour 7 Å: beyond CHGNet's 6 Å
    features = chgnet.site_features([lone])[0]
    assert isinstance(features, np.ndarray) and features.shape == (1, chgnet.WIDTH) and np.isfinite(features).all()


def test_elements_beyond_plutonium_and_a_changed_checkpoint_are_refused(monkeypatch):
    americium = Structure(Lattice.cubic(4.0), ["Am"], [[0, 0, 0]])
    found = chgnet.site_features([ROCK_SALT, americium, A15])
    assert isinstance(found[1], InputError) and "H to Pu" in str(found[1])
    np.testing.assert_allclose(found[2], chgnet.site_features([A15])[0], atol=1e-6)  # the others are read
    chgnet.encoder.cache_clear()
    monkeypatch.setattr(chgnet, "CHECKPOINT_SHA256", "0" * 64)
    try:
        with pytest.raises(RuntimeError, match="sha256"):
            chgnet.encoder()
    finally:
        chgnet.encoder.cache_clear()


def test_the_disk_cache_stores_large_calls_and_serves_them(monkeypatch):
    monkeypatch.setattr(chgnet, "STORE_MIN", 2)
    first = chgnet.cached_site_features([ROCK_SALT, A15, ROCK_SALT])
    assert len(list(chgnet._store_dir().glob("*.npz"))) == 1
    chgnet._stored.cache_clear()  # a new process reads the shard
    assert len(chgnet._stored()) == 2
    monkeypatch.setattr(chgnet, "site_features", lambda structures: pytest.fail("recomputed"))
    again = chgnet.cached_site_features([A15, ROCK_SALT])
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(again[1], first[0])
    assert chgnet.structure_key(ROCK_SALT) != chgnet.structure_key(ROCK_SALT * (2, 1, 1))
