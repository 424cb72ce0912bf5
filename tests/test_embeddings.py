"""sc_core.embeddings: Mendeleev ordering, correlations, t-SNE and the predicted-superconductor frequency."""

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from sc_core import data, embeddings


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    symbols = ["O", "Na", "Li", "K", "S", "Cu", "Ag", "Fe", "La", "Ba"]
    return pd.DataFrame(rng.normal(size=(len(symbols), 4)), index=symbols)


def test_pearson_is_a_mendeleev_ordered_correlation_matrix(vectors):
    corr = embeddings.pearson(vectors)
    assert corr.index.tolist()[:3] == ["Li", "Na", "K"] and corr.index.tolist() == corr.columns.tolist()
    np.testing.assert_allclose(np.diag(corr), 1.0)
    assert corr.loc["O", "S"] == pytest.approx(np.corrcoef(vectors.loc["O"], vectors.loc["S"])[0, 1])


def test_tsne_keeps_clusters_apart_and_joins_metadata():
    rng = np.random.default_rng(0)
    alkali, halogens = ["Li", "Na", "K", "Rb", "Cs"], ["F", "Cl", "Br", "I", "At"]
    centres = np.repeat([[0.0] * 4, [10.0] * 4], 5, axis=0)  # two tight clusters far apart in 4-D
    vectors = pd.DataFrame(centres + rng.normal(0, 0.1, centres.shape), index=alkali + halogens)
    with threadpool_limits(1):  # ten points: OpenMP threads only add waits on a busy machine (0.05 s vs 15 s)
        points = embeddings.tsne(vectors)
    assert points.index.tolist() == alkali + halogens and {"x", "y", "block", "group"} <= set(points.columns)
    xy = points[["x", "y"]].to_numpy()
    distance = np.linalg.norm(xy[:, None] - xy[None], axis=-1) + np.diag([np.inf] * len(xy))
    nearest = distance.argmin(axis=1)
    assert ((nearest < 5) == (np.arange(10) < 5)).all()  # every element's 2-D neighbour is from its cluster
    assert points.loc["Na", "block"] == "s" and points.loc["Cl", "group"] == 17


class ContainsCopper:
    """Predicts a superconductor exactly when the crystal contains Cu (P 0.3, above its threshold 0.25)."""

    card = {"decision_threshold": {"value": 0.25}}

    def predict(self, inputs):
        return pd.DataFrame({"p_sc": [0.3 * ("Cu" in {e.symbol for e in s.composition.elements}) for s in inputs]})


def test_predicted_frequency_counts_elements_of_predicted_superconductors():
    freq = embeddings.predicted_frequency(ContainsCopper())
    assert freq["Cu"] == 1.0  # every predicted superconductor contains Cu
    with_cu = [s.composition for s in data.s2s_structures().values() if "Cu" in {e.symbol for e in s.composition}]
    assert freq["O"] == pytest.approx(np.mean([c["O"] > 0 for c in with_cu]))
    assert freq["Xe"] == 0.0 and len(freq) >= 103
    default = ContainsCopper()
    default.card = {}  # the default threshold 0.5: nothing reads as a superconductor
    assert embeddings.predicted_frequency(default).max() == 0.0


def test_stored_maps_are_read_for_their_version_only(tmp_path, monkeypatch):
    from sc_core import models

    model = models.load("baseline")
    with threadpool_limits(1):
        path = embeddings.save_maps(model, tmp_path)
        stored = embeddings.tsne_map(model, None, tmp_path)
        live = embeddings.tsne(model.element_vectors())
    assert path.name == "baseline_embeddings.json"
    np.testing.assert_allclose(stored[["x", "y"]].to_numpy(), live.loc[stored.index, ["x", "y"]].to_numpy(),
                               atol=1e-4)
    assert stored.drop(columns=["x", "y"]).equals(live.loc[stored.index].drop(columns=["x", "y"]))  # metadata
    assert embeddings.frequency_map(model, tmp_path).equals(embeddings.predicted_frequency(model).round(5))
    monkeypatch.setattr(model, "version", "another")  # a retrained model does not read the old maps
    assert embeddings.stored_maps(model, tmp_path) is None
    monkeypatch.setattr(embeddings, "tsne", lambda vectors: "computed")
    assert embeddings.tsne_map(model, None, tmp_path) == "computed"
