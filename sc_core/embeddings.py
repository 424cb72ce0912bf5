"""Element vectors of any model → Pearson correlation matrix and t-SNE map; how often each element occurs
among the crystals a model predicts to superconduct (the S2SNet paper's colouring of Figs. 5-6)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.manifold import TSNE

from sc_core import data, thresholds
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


def predicted_frequency(model: Model) -> pd.Series:
    """Share of the bundled S2S crystals predicted superconducting (P at or above the model's decision threshold)
    that contain each element (index: symbol, 0 where never; composition models read the crystals' compositions)."""
    threshold = thresholds.of(model.card)
    table = data.load_s2s()
    structures = data.s2s_structures()
    pred = model.predict([structures[i] for i in table["id"]])
    positive = [structures[i].composition for i, p in zip(table["id"], pred["p_sc"]) if p >= threshold]
    counts = pd.Series([el.symbol for comp in positive for el in comp.elements]).value_counts()
    return (counts / max(len(positive), 1)).reindex(element_table().index, fill_value=0.0)


MAPS_FILE = "{name}_embeddings.json"  # in the results folder, beside the model's metrics


def build_maps(model: Model) -> dict:
    """What the Element embeddings page shows that depends only on the model: the t-SNE coordinates of each
    embedding stage and the predicted-superconductor share of each element, tagged with the model version."""
    stages = model.embedding_stages or [None]
    maps = {str(stage): tsne(model.element_vectors(stage))[["x", "y"]].round(4).to_dict(orient="index")
            for stage in stages}
    frequency = predicted_frequency(model).round(5).to_dict()
    return {"model": model.name, "version": model.version, "tsne": maps, "frequency": frequency}


def save_maps(model: Model, results_dir: Path) -> Path:
    path = results_dir / MAPS_FILE.format(name=model.name)
    path.write_text(json.dumps(build_maps(model), indent=1) + "\n")
    return path


def stored_maps(model: Model, results_dir: Path) -> dict | None:
    """The maps saved for this version of `model`, or None (none saved, or saved for another version)."""
    path = results_dir / MAPS_FILE.format(name=model.name)
    if not path.exists():
        return None
    maps = json.loads(path.read_text())
    return maps if maps.get("version") == model.version else None


def tsne_map(model: Model, stage: str | None, results_dir: Path) -> pd.DataFrame:
    """:func:`tsne` of `model`'s vectors at `stage`, read from the stored maps when they are of this version."""
    maps = stored_maps(model, results_dir)
    if maps is None or str(stage) not in maps["tsne"]:
        return tsne(model.element_vectors(stage))
    return pd.DataFrame.from_dict(maps["tsne"][str(stage)], orient="index").join(element_table())


def frequency_map(model: Model, results_dir: Path) -> pd.Series:
    """:func:`predicted_frequency` of `model`, read from the stored maps when they are of this version."""
    maps = stored_maps(model, results_dir)
    if maps is None:
        return predicted_frequency(model)
    return pd.Series(maps["frequency"], dtype=float).reindex(element_table().index, fill_value=0.0)


def main(argv: list[str] | None = None) -> None:
    """python -m sc_core.embeddings [NAME ...]: store the maps of the named (default: every trained) model."""
    from tqdm import tqdm

    from sc_core import models, paths

    results_dir = paths.folder("SC_RESULTS_DIR", "benchmarks/results")
    names = argv if argv else [n for n in models.available() if models.load(n).element_vectors() is not None]
    for name in tqdm(names, desc="element maps", unit="model"):
        save_maps(models.load(name), results_dir)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
