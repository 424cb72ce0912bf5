"""Element vectors of any model → Pearson correlation matrix and t-SNE map; how often each element occurs
among the crystals a model predicts to superconduct (the S2SNet paper's colouring of Figs. 5-6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.manifold import TSNE

from sc_core import data
from sc_core.data import load_elements
from sc_core.models.base import Model


def element_table() -> pd.DataFrame:
    """Element metadata for plots (index: symbol): Z, name, group, period, block, Mendeleev number."""
    return load_elements().set_index("symbol")[["Z", "name", "group", "period", "block", "mendeleev_number"]]


def mendeleev_order(vectors: pd.DataFrame) -> pd.DataFrame:
    """Rows of `vectors` sorted by Mendeleev number (chemically similar elements adjacent)."""
    order = element_table()["mendeleev_number"].reindex(vectors.index)
    return vectors.loc[order.sort_values(kind="stable").index]


def pearson(vectors: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlation between element vectors, in Mendeleev order (rows and columns: symbols)."""
    ordered = mendeleev_order(vectors)
    return pd.DataFrame(np.corrcoef(ordered.to_numpy(dtype=float)), index=ordered.index, columns=ordered.index)


def tsne(vectors: pd.DataFrame, perplexity: float = 15.0, seed: int = 0) -> pd.DataFrame:
    """2-D t-SNE coordinates of element vectors joined with element metadata (index: symbol)."""
    values = vectors.to_numpy(dtype=float)
    perplexity = min(perplexity, (len(values) - 1) / 3)
    xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(values)
    coords = pd.DataFrame(xy, index=vectors.index, columns=["x", "y"])
    return coords.join(element_table())


def predicted_frequency(model: Model, threshold: float = 0.5) -> pd.Series:
    """Share of the bundled S2S crystals predicted superconducting (P ≥ `threshold`) that contain each element
    (index: symbol, 0 where never; composition models read the crystals' compositions)."""
    table = data.load_s2s()
    structures = data.s2s_structures()
    pred = model.predict([structures[i] for i in table["id"]])
    positive = [structures[i].composition for i, p in zip(table["id"], pred["p_sc"]) if p >= threshold]
    counts = pd.Series([el.symbol for comp in positive for el in comp.elements]).value_counts()
    return (counts / max(len(positive), 1)).reindex(element_table().index, fill_value=0.0)
