"""Crystal-graph network: batching, training on a toy set, ensemble independence, save/load, bad structures."""

import dataclasses

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure
from toy_structures import toy_structures

from sc_core import checkpoints
from sc_core.featurize.composition import feature_names
from sc_core.featurize.graph import crystal_graph
from sc_core.models.crystal_graph import CrystalGraphNet
from sc_core.models.graph_batch import collate

FAST = {"n_members": 2, "width": 16, "layers": 2, "epochs": 15, "batch_size": 8, "lr": 1e-2}


def test_collate_shifts_node_indices():
    a, b = toy_structures(2)
    batch = collate([crystal_graph(a[0]), crystal_graph(a[1])])
    assert batch.n == 2 and batch.crystal.tolist() == [0] * 8 + [1] * 2
    assert batch.src[:96].max() <= 7 and batch.src[96:].min() >= 8


def test_fit_predict_learns_a_toy_rule():
    structures, tc = toy_structures(24)
    quick = FAST | {"batch_size": 12, "epochs": 20}
    model = CrystalGraphNet(**quick).fit(structures, tc=tc)
    nbti = Structure(Lattice.cubic(3.3), [{"Nb": 0.7, "Ti": 0.3}] * 2, [[0, 0, 0], [0.5, 0.5, 0.5]])
    feo = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.4), ["Fe", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    pred = model.predict([nbti, feo, "MgB2"])
    assert pred["p_sc"][0] > 0.7 and pred["p_sc"][1] < 0.3 and pred["tc_K"][0] > 3
    assert "crystal structure" in pred["error"][2]
    assert len(model.history) == quick["epochs"] and model.history[0].shape == (2,)


def test_members_are_independent():
    structures, _ = toy_structures(4)
    model = CrystalGraphNet(**FAST)
    net = model.network()
    logit, _ = net(collate([crystal_graph(s) for s in structures]))
    logit[1].sum().backward()
    grads = [p.grad.view(2, -1) for p in net.parameters() if p.grad is not None]
    assert all(torch.all(g[0] == 0) for g in grads) and any(torch.any(g[1] != 0) for g in grads)


@pytest.mark.parametrize("composition", [False, True])
def test_save_load_round_trip_and_heavy_elements(tmp_path, monkeypatch, composition):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    structures, tc = toy_structures(12)
    model = CrystalGraphNet(**(FAST | {"epochs": 2, "composition": composition})).fit(structures, tc=tc)
    model.save({"version": "test", "data_hash": "none"})
    loaded = CrystalGraphNet.load()
    heavy = Structure(Lattice.cubic(4.0), ["Rf"], [[0, 0, 0]])
    a, b = model.predict(structures[:3] + [heavy]), loaded.predict(structures[:3] + [heavy])
    np.testing.assert_allclose(a[["p_sc", "tc_K"]].to_numpy(float)[:3], b[["p_sc", "tc_K"]].to_numpy(float)[:3],
                               rtol=1e-5)
    assert "beyond Lr" in b["error"][3] and np.isnan(b["p_sc"][3])
    assert loaded.element_vectors().shape == (103, FAST["width"])
    if composition:  # the descriptor standardisation is fitted on the training graphs and travels with the weights
        assert torch.equal(loaded.net.backbone.composition.std, model.net.backbone.composition.std)
        assert not torch.all(loaded.net.backbone.composition.std == 1)


def test_composition_descriptors_change_predictions():
    structures, tc = toy_structures(12)
    model = CrystalGraphNet(**(FAST | {"epochs": 2, "composition": True})).fit(structures, tc=tc)
    graphs = [model.graph(s) for s in structures[:2]]
    assert graphs[0].descriptors.shape == (len(feature_names()),)
    assert crystal_graph(structures[0]).descriptors.shape == (0,)
    swapped = [dataclasses.replace(graphs[0], descriptors=graphs[1].descriptors), graphs[1]]
    assert not np.allclose(model.predict_graphs(graphs)["p_sc"][0], model.predict_graphs(swapped)["p_sc"][0])


def test_atom_contributions_are_per_site_gradient_times_input():
    structures, tc = toy_structures(20)
    model = CrystalGraphNet(**(FAST | {"epochs": 5})).fit(structures, tc=tc)
    rock_salt = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Nb", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    values = model.atom_contributions(rock_salt)
    assert values.shape == (8,) and np.isfinite(values).all() and np.abs(values).sum() > 0
    nb = [i for i, site in enumerate(rock_salt) if site.specie.symbol == "Nb"]
    np.testing.assert_allclose(values[nb], values[nb[0]], rtol=1e-4)  # symmetry-equivalent sites agree
