"""Element facts every layer shares (a leaf: imports nothing of ours): the range of atomic numbers the models
cover, the symbols in Z order, and per-element vectors as a table indexed by symbol."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from pymatgen.core import Element

MAX_Z = 103  # H to Lr: the elements the bundled property table and the models cover
BLOCKS = "spdf"


@lru_cache(maxsize=1)
def symbols() -> tuple[str, ...]:
    """Element symbols for Z = 1..MAX_Z."""
    return tuple(Element.from_Z(z).symbol for z in range(1, MAX_Z + 1))


def vectors_table(vectors: np.ndarray) -> pd.DataFrame:
    """(MAX_Z, d) per-element vectors (row i: Z = i + 1) as a table indexed by symbol, columns h0..h{d-1}."""
    return pd.DataFrame(vectors, index=list(symbols()), columns=[f"h{i}" for i in range(vectors.shape[1])])
