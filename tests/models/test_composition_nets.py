"""Composition networks: inputs, training on a small set, ensemble spread, calibration, save/load round trip."""

import numpy as np
import pytest
import torch
from pymatgen.core import Composition, Element

from sc_core import checkpoints
from sc_core.calibration import apply_temperature
from sc_core.featurize.composition import (
    fraction_vector,
    periodic_table_tensor,
    table_positions,
    to_batch,
)
from sc_core.models.composition_nets import (
    ElementAffine,
    KaplanCNN,
    KaplanFCNN,
    KonnoCNN,
)

FAST = {"n_members": 2, "epochs": 2, "batch_size": 32}


def toy_set(n: int = 100) -> tuple[list[Composition], np.ndarray]:
    """Nb-Ti alloys superconduct (Tc rising with Nb), Fe-O oxides do not: learnable in a few epochs."""
    rng = np.random.default_rng(0)
    comps, tc = [], []
    for i in range(n):
        x = rng.uniform(0.2, 0.8)
        if i % 2:
            comps.append(Composition({"Nb": x, "Ti": 1 - x}))
            tc.append(5 + 10 * x)
        else:
            comps.append(Composition({"Fe": x, "O": 1 - x}))
            tc.append(0.0)
    return comps, np.array(tc)


def test_periodic_table_tensor_places_elements_by_block():
    t = periodic_table_tensor(to_batch([Composition("YBa2Cu3O7")]))[0]
    assert t.shape == (4, 7, 32) and np.isclose(t.sum(), 1.0)
    assert np.isclose(t[1, 1, 29], 7 / 13)  # O: p block, period 2, group 16
    assert np.isclose(t[0, 5, 1], 2 / 13)  # Ba: s block, period 6, group 2
    assert np.isclose(t[2, 3, 24], 3 / 13)  # Cu: d block, period 4, group 11
    assert len({tuple(p) for p in table_positions()[1:]}) == 103  # every element has its own cell


def test_fraction_vector_is_indexed_by_atomic_number():
    v = fraction_vector(to_batch([Composition("MgB2")]))[0]
    assert v.shape == (120,) and np.isclose(v[11], 1 / 3) and np.isclose(v[4], 2 / 3) and np.isclose(v.sum(), 1)


@pytest.mark.parametrize("cls", [KonnoCNN, KaplanFCNN, KaplanCNN])
def test_fit_predict_learns_a_toy_rule(cls):
    comps, tc = toy_set()
    model = cls(**(FAST | {"epochs": 20, "batch_size": 16, "lr": 1e-2})).fit(comps, tc=tc)
    pred = model.predict(["Nb0.7Ti0.3", "Fe2O3", "Xx2"])
    assert list(pred["error"][:2]) == ["", ""] and "Xx" in pred["error"][2]
    assert pred["p_sc"][0] > 0.7 and pred["p_sc"][1] < 0.3
    X = torch.from_numpy(model.featurize([Composition("Nb0.7Ti0.3"), Composition("Fe2O3")]))
    logits, tc_scaled = model._member_outputs(X)  # the spread is the std over the two members
    np.testing.assert_allclose(pred["p_sc_std"][:2], apply_temperature(logits, model.temperature).std(0), rtol=1e-5)
    np.testing.assert_allclose(pred["tc_std_K"][:2], np.maximum(tc_scaled * 30.0, 0).std(0), rtol=1e-4, atol=1e-4)
    assert model.net.members == 2
    assert {"member", "stage", "epoch", "val_loss"} <= set(model.history[0])


def test_two_stage_training_keeps_the_backbone_in_stage_two():
    comps, tc = toy_set()
    model = KaplanFCNN(**FAST).fit(comps, tc=tc)
    stages = {h["stage"] for h in model.history}
    assert stages == {"tc", "cls"}
    only_cls = KaplanFCNN(**FAST).fit(comps, labels=tc > 0)
    assert {h["stage"] for h in only_cls.history} == {"cls"}


def test_members_differ_and_ensemble_spread_is_their_std():
    comps, tc = toy_set()
    model = KonnoCNN(**FAST).fit(comps, tc=tc)
    a, b = model.net.backbone[0].layer.weight.detach().view(2, -1)
    assert not torch.allclose(a, b)
    X = torch.from_numpy(model.featurize(comps[:8]))
    logits = model._member_outputs(X)[0]
    assert logits.shape == (2, 8) and not np.allclose(logits[0], logits[1])
    probs = apply_temperature(logits, model.temperature)
    np.testing.assert_allclose(model.predict_features(X.numpy())["p_sc_std"], probs.std(0), rtol=1e-6)


def test_member_is_independent_of_the_others():
    """Training member 0 alone gives the same member as training it inside a larger ensemble: no coupling."""
    comps, tc = toy_set(60)
    torch.manual_seed(0)
    net = KaplanFCNN(n_members=3).network()
    x = torch.from_numpy(KaplanFCNN().featurize(comps))
    logit, tc_out = net(x)
    logit[1].sum().backward()
    grads = [p.grad.view(3, -1) for p in net.parameters() if p.grad is not None]
    assert all(torch.all(g[0] == 0) and torch.all(g[2] == 0) for g in grads)
    assert any(torch.any(g[1] != 0) for g in grads)


@pytest.mark.parametrize("encode, layer", [
    (periodic_table_tensor, lambda: torch.nn.Conv2d(4, 6, 3, stride=2, padding=1)),
    (fraction_vector,
     lambda: torch.nn.Sequential(torch.nn.Unflatten(1, (1, 10, 12)), torch.nn.Conv2d(1, 6, 3, padding=1))),
])
def test_element_affine_equals_the_layer_on_the_full_image(encode, layer):
    comps = [Composition(f) for f in ("YBa2Cu3O7", "MgB2", "Nb0.7Ti0.3", "LaFeAsO0.9F0.1", "U")]
    batch = to_batch(comps)
    torch.manual_seed(0)
    dense = layer()
    images = encode(to_batch([Composition({el: 1}) for el in map(Element.from_Z, range(1, 104))]))
    sparse = ElementAffine(dense, torch.from_numpy(images))
    expected = dense(torch.from_numpy(encode(batch)))
    torch.testing.assert_close(sparse(torch.from_numpy(fraction_vector(batch))), expected, rtol=1e-5, atol=1e-6)


def test_save_load_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    comps, tc = toy_set()
    model = KaplanCNN(**FAST).fit(comps, tc=tc)
    model.save({"version": "test", "data_hash": "none"})
    loaded = KaplanCNN.load()
    assert loaded.version == "test" and loaded.temperature == pytest.approx(model.temperature)
    a, b = model.predict(["Nb3Sn", "CuO"]), loaded.predict(["Nb3Sn", "CuO"])
    np.testing.assert_allclose(a[["p_sc", "tc_K"]].to_numpy(float), b[["p_sc", "tc_K"]].to_numpy(float), rtol=1e-5)


def test_element_vectors_cover_the_periodic_table():
    comps, tc = toy_set(40)
    vectors = KonnoCNN(**FAST).fit(comps, tc=tc).element_vectors()
    assert vectors.shape == (103, 128) and vectors.index[0] == "H" and vectors.index[-1] == "Lr"
