"""Attention over elements: mat2vec table, fraction encoding, padding, order invariance, training, round trip."""

import hashlib

import numpy as np
import pytest
import torch
from pymatgen.core import Composition

from sc_core import checkpoints
from sc_core.featurize import mat2vec as m2v
from sc_core.featurize.composition import fraction_vector, to_batch
from sc_core.models.element_attention import ElementAttention, fraction_encoding
from tests.models.test_composition_nets import toy_set

TINY = {"n_members": 2, "d_model": 16, "heads": 2, "layers": 1, "width": 16, "head_width": 8, "batch_size": 16}


def test_mat2vec_table_is_the_vendored_file_in_atomic_number_order():
    table = m2v.mat2vec()
    assert table.shape == (103, 200) and table.dtype == np.float32 and np.all(np.linalg.norm(table, axis=1) > 1)
    assert np.isclose(table[0, 0], 0.05714642)  # H, the file's first value
    assert not np.allclose(table[25], table[26])  # Fe and Co differ


def test_an_altered_mat2vec_file_is_refused(monkeypatch):
    monkeypatch.setattr(m2v, "SHA256", hashlib.sha256(b"other").hexdigest())
    m2v.mat2vec.cache_clear()
    try:
        with pytest.raises(m2v.EmbeddingFileError, match="sha256"):
            m2v.mat2vec()
    finally:
        m2v.mat2vec.cache_clear()


def test_fraction_encoding_separates_nearby_fractions():
    enc = fraction_encoding(torch.tensor([0.01, 0.02, 0.5, 0.51, 1.0]))
    assert enc.shape == (5, 32) and torch.all(enc.abs() <= 1)
    assert (enc[0] - enc[1]).norm() > 0.1 and (enc[2] - enc[3]).norm() > 0.01


@pytest.fixture(scope="module")
def trained() -> ElementAttention:
    comps, tc = toy_set()
    return ElementAttention(**(TINY | {"epochs": 25, "lr": 1e-2})).fit(comps, tc=tc)


def test_fit_predict_learns_a_toy_rule(trained):
    pred = trained.predict(["Nb0.7Ti0.3", "Fe2O3", "Xx2"])
    assert list(pred["error"][:2]) == ["", ""] and "Xx" in pred["error"][2]
    assert pred["p_sc"][0] > 0.7 and pred["p_sc"][1] < 0.3
    assert trained.net.members == 2


def test_output_does_not_depend_on_how_the_formula_is_written_or_what_shares_its_batch(trained):
    alone = trained.predict(["YBa2Cu3O7"])[["p_sc", "tc_K"]].to_numpy(float)
    batch = trained.predict(["O7Cu3Ba2Y", "Nb", "LaFeAsO0.9F0.1", "YBa2Cu3O7"])[["p_sc", "tc_K"]].to_numpy(float)
    np.testing.assert_allclose(batch[0], alone[0], rtol=1e-5, atol=1e-6)  # padding to 5 tokens changes nothing
    np.testing.assert_allclose(batch[3], alone[0], rtol=1e-5, atol=1e-6)


def test_padding_tokens_do_not_reach_the_output():
    torch.manual_seed(0)
    net = ElementAttention(**TINY).network().eval()
    x = torch.from_numpy(fraction_vector(to_batch([Composition("MgB2"), Composition("YBa2Cu3O7")])))
    with torch.no_grad():
        together = net.backbone(x)
        alone = net.backbone(x[:1])
    torch.testing.assert_close(together[:, :1], alone, rtol=1e-5, atol=1e-6)
    assert torch.isfinite(together).all()


def test_save_load_round_trip_and_element_vectors(trained, tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    trained.save({"version": "test", "data_hash": "none"})
    loaded = ElementAttention.load()
    a, b = trained.predict(["Nb3Sn", "CuO"]), loaded.predict(["Nb3Sn", "CuO"])
    np.testing.assert_allclose(a[["p_sc", "tc_K"]].to_numpy(float), b[["p_sc", "tc_K"]].to_numpy(float), rtol=1e-5)
    assert not any("table" in k for k in np.load(tmp_path / "element_attention" / "weights.npz"))  # data, not weights
    vectors = loaded.element_vectors()
    assert vectors.shape == (103, 16) and vectors.index[0] == "H" and vectors.index[-1] == "Lr"
