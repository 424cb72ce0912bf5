"""Element vectors of any model → Pearson correlation matrix and t-SNE map."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.manifold import TSNE

from sc_core.data import load_elements


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
