"""S2SNet: masking, segment softmax, training, pretraining, freezing, CAM, persistence."""

import numpy as np
import pytest
import torch
from pymatgen.core import Structure
from toy_structures import toy_structures

from sc_core import checkpoints
from sc_core.models.graph_batch import collate, segment_softmax
from sc_core.models.s2snet import S2SNet, cell_invariants, mask_sites

FAST = {"n_members": 2, "width": 16, "layers": 1, "epochs": 15, "batch_size": 8, "lr": 1e-2}


def toy_set(n: int = 40) -> tuple[list[Structure], np.ndarray]:
    structures, tc = toy_structures(n)
    return structures, (tc > 0).astype(int)


def test_mask_sites_takes_15_percent_and_at_least_two_per_crystal():
    structures, _ = toy_set(4)
    big = structures[0].copy()
    big.make_supercell([2, 2, 2])  # 64 sites
    batch = collate([S2SNet().graph(s) for s in (structures[1], big)])
    masked = mask_sites(batch, torch.Generator().manual_seed(0), 0.15, 2)
    per_crystal = torch.bincount(batch.crystal[masked], minlength=2).tolist()
    assert per_crystal == [2, 10]  # 2 sites: both; 64 sites: ceil(9.6)


def test_segment_softmax_normalises_within_segments():
    scores = torch.tensor([[1.0, 2.0, 3.0, 0.5], [0.0, 0.0, 5.0, 5.0]])
    weights = segment_softmax(scores, torch.tensor([0, 0, 1, 1]), 2)
    torch.testing.assert_close(weights[:, :2].sum(1), torch.ones(2))
    torch.testing.assert_close(weights[1], torch.tensor([0.5, 0.5, 0.5, 0.5]))


def test_fit_predict_learns_a_toy_rule_and_refuses_formulas():
    structures, labels = toy_set(24)
    model = S2SNet(**(FAST | {"batch_size": 12, "epochs": 20})).fit(structures, labels=labels)
    pred = model.predict([structures[1], structures[0], "MgB2"])
    assert pred["p_sc"][0] > 0.7 and pred["p_sc"][1] < 0.3
    assert "crystal structure" in pred["error"][2]


@pytest.mark.parametrize("position", ["centroid", "bonds", "both"])
def test_positions_lattice_and_descriptor_options_build_and_train(position):
    structures, labels = toy_set(12)
    model = S2SNet(**(FAST | {"epochs": 2, "position": position, "lattice": position != "both",
                              "descriptors": position == "bonds"}))
    assert model.fit(structures, labels=labels).predict(structures[:2])["p_sc"].notna().all()


def test_cell_invariants_are_volume_per_atom_and_density_whatever_the_cell():
    structures, _ = toy_set(4)
    disordered = structures[0].copy()
    disordered.replace_species({disordered[0].specie: {disordered[0].specie: 0.5}})  # half-occupied sites
    crystals = [structures[0], structures[1], disordered]
    cells = [s * (2, 1, 1) for s in crystals] + [s.get_primitive_structure() for s in crystals]
    values = cell_invariants(collate([S2SNet().graph(s) for s in crystals + cells])).numpy()
    expected = [[s.volume / s.composition.num_atoms, s.density] for s in crystals]
    np.testing.assert_allclose(values[:3], expected, rtol=1e-5)
    np.testing.assert_allclose(values[3:6], values[:3], rtol=1e-5)
    np.testing.assert_allclose(values[6:], values[:3], rtol=1e-5)


def test_unknown_tc_marks_a_superconductor():
    structures, labels = toy_set(24)
    tc = np.where(labels == 1, np.nan, 0.0)  # superconductors of unknown Tc, as in S2S
    model = S2SNet(**(FAST | {"batch_size": 12, "epochs": 20})).fit(structures, tc=tc)
    pred = model.predict([structures[1], structures[0]])
    assert pred["p_sc"][0] > 0.7 and pred["p_sc"][1] < 0.3


def test_pretraining_lowers_masked_loss_and_freezing_keeps_pretrained_layers():
    structures, labels = toy_set(24)
    model = S2SNet(**(FAST | {"pretrain_epochs": 20, "freeze": True, "epochs": 3}))
    model.pretrain(structures)
    assert model.pretrain_history[-1].mean() < model.pretrain_history[0].mean()
    assert model.masked_accuracy(structures) > 0.5  # 2-4 elements, each predictable from its neighbours
    embedding = model.net.backbone.embed.elements.detach().clone()
    head = model.net.cls_branch[0].weight.detach().clone()
    model.fit(structures, labels=labels)  # fine-tunes the pretrained network
    torch.testing.assert_close(model.net.backbone.embed.elements.detach(), embedding, rtol=0, atol=0)
    assert not torch.equal(model.net.cls_branch[0].weight.detach(), head)


def test_cam_splits_the_readout_and_matches_symmetry():
    structures, labels = toy_set(20)
    model = S2SNet(**(FAST | {"epochs": 5})).fit(structures, labels=labels)
    rock_salt = structures[0]
    for method in ("cam", "grad_x_input"):
        values = model.atom_contributions(rock_salt, method=method)
        fe = [i for i, site in enumerate(rock_salt) if site.specie.symbol == "Fe"]
        assert values.shape == (8,) and np.isfinite(values).all()
        np.testing.assert_allclose(values[fe], values[fe[0]], rtol=1e-4, atol=1e-7)
    with pytest.raises(ValueError, match="unknown attribution"):
        model.atom_contributions(rock_salt, method="saliency")


def test_save_load_round_trip_keeps_pretrained_embeddings(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    structures, labels = toy_set(12)
    with pytest.raises(ValueError, match="without pretraining"):
        S2SNet(**(FAST | {"epochs": 1})).fit(structures, labels=labels).element_vectors("pretrained")
    model = S2SNet(**(FAST | {"epochs": 2, "pretrain_epochs": 2, "descriptors": True, "composition": True}))
    model.fit(structures, tc=np.where(labels, 9.0, 0.0))
    assert 0.0 <= model.masked_val_accuracy <= 1.0
    model.save({"version": "test", "data_hash": "none"})
    loaded = S2SNet.load()
    a, b = model.predict(structures[:4]), loaded.predict(structures[:4])
    np.testing.assert_allclose(a[["p_sc", "tc_K"]].to_numpy(float), b[["p_sc", "tc_K"]].to_numpy(float), rtol=1e-5)
    assert loaded.element_vectors().shape == (103, FAST["width"])
    pretrained = loaded.element_vectors("pretrained")
    np.testing.assert_array_equal(pretrained.to_numpy(), model.element_vectors("pretrained").to_numpy())
    assert not np.allclose(pretrained.to_numpy(), loaded.element_vectors().to_numpy())  # fine-tuning moved them
    torch.testing.assert_close(loaded.net.backbone.composition.std, model.net.backbone.composition.std)


def test_fine_tuning_starts_from_a_pretrained_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    structures, labels = toy_set(24)
    pretrained = S2SNet(**(FAST | {"pretrain_epochs": 5})).pretrain(structures)
    pretrained.save_pretrained({"version": "test"}, "toy_pretrained")
    model = S2SNet(**(FAST | {"pretrained": "toy_pretrained", "freeze": True, "epochs": 2}))
    model.fit(structures, labels=labels)
    torch.testing.assert_close(model.net.backbone.embed.elements, pretrained.net.backbone.embed.elements)
    assert model.masked_val_accuracy == pretrained.masked_val_accuracy
    assert model.embedding_stages == ("fine-tuned", "pretrained")
    with_composition = S2SNet(**(FAST | {"pretrained": "toy_pretrained", "freeze": True, "composition": True,
                                         "epochs": 1}))
    with_composition.fit(structures, labels=labels)  # the composition channel is new, the rest pretrained
    torch.testing.assert_close(with_composition.net.backbone.layers[0].qkv.weight,
                               pretrained.net.backbone.layers[0].qkv.weight, rtol=0, atol=0)
    assert with_composition.net.backbone.composition.mean.abs().sum() > 0  # standardised on the training crystals
    invariant = S2SNet(**(FAST | {"pretrained": "toy_pretrained", "lattice_inputs": "invariants", "position": "bonds",
                                  "freeze": True, "epochs": 1}))
    invariant.fit(structures, labels=labels)  # the lattice layer reads two invariants: new; the centroid dropped
    assert invariant.net.backbone.lattice.weight.shape[1] == 2 and invariant.net.backbone.embed.position is None
    torch.testing.assert_close(invariant.net.backbone.embed.elements, pretrained.net.backbone.embed.elements)
    torch.testing.assert_close(invariant.net.backbone.layers[0].bond_bias.weight,
                               pretrained.net.backbone.layers[0].bond_bias.weight)
    bonds_only = S2SNet(**(FAST | {"pretrain_epochs": 1, "position": "bonds"})).pretrain(structures)
    bonds_only.save_pretrained({"version": "test"}, "toy_bonds")
    with pytest.raises(ValueError, match="differs in position"):  # no centroid layer to start from
        S2SNet(**(FAST | {"pretrained": "toy_bonds"})).fit(structures, labels=labels)
    with pytest.raises(ValueError, match="differs in width"):
        S2SNet(**(FAST | {"pretrained": "toy_pretrained", "width": 8})).fit(structures, labels=labels)
