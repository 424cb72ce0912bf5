"""mat2vec element embeddings (Tshitoyan et al., Nature 571, 95, 2019): 200-dimensional word vectors of the element
symbols learned from 3.3 million materials-science abstracts, as shipped in the CBFV 1.1.0 wheel (PyPI).

The table is vendored, unchanged and gzipped, as ``sc_core/static/mat2vec.csv.gz`` (provenance and licence in
``sc_core/static/README.md``) and checked against its sha256 when read.
"""

from __future__ import annotations

import hashlib
import io
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from sc_core.elements import symbols

FILE = "static/mat2vec.csv.gz"
SHA256 = "8388b09ec06466fdf5f2fee609df41ff618540e88789f7adff0fed6a7be6d9b5"
DIMENSION = 200


class EmbeddingFileError(RuntimeError):
    """The vendored embedding table is missing or altered."""


@cache
def mat2vec() -> np.ndarray:
    """(MAX_Z, 200) float32 mat2vec vectors, row Z − 1 for Z = 1..MAX_Z (every one of them is in the table)."""
    raw = resources.files("sc_core").joinpath(FILE).read_bytes()
    if hashlib.sha256(raw).hexdigest() != SHA256:
        raise EmbeddingFileError(f"sc_core/{FILE} does not match its recorded sha256: reinstall the package")
    table = pd.read_csv(io.BytesIO(raw), compression="gzip", index_col=0)
    return table.loc[list(symbols())].to_numpy(dtype=np.float32)
