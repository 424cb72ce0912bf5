"""Whether a material lies inside what the models were trained on (their applicability domain).

One measure for every model, since all of them learn from SuperCon's compositions: the mean distance from a
material to its K nearest SuperCon compositions in standardised Magpie space (principal components keeping
VARIANCE of it), in standard deviations per component. A material is inside the domain when it is no farther
than COVERAGE of the SuperCon entries themselves are from their nearest *other* compositions (an entry's own
composition, and its duplicates, left out). A low P outside the domain reads as "unknown", not "no".

COVERAGE is calibrated (``python benchmarks/domain.py --calibrate``): the smallest coverage, so the largest share
of a held-out discovery family flagged outside, that keeps at least 95% of SuperCon compositions held out at random
inside. At 0.95, 0.953 ± 0.004 of those fall inside (0.925 gives 0.927), and on average over the families, each
held out in turn, 0.56 of a family falls outside (more than half; 0.96 would give 0.53, 0.97 0.48).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pymatgen.core import Composition

from sc_core import data
from sc_core.featurize.composition import magpie_features, to_batch

if TYPE_CHECKING:
    from sklearn.neighbors import NearestNeighbors

K = 5
COVERAGE = 0.95  # share of SuperCon's own entries inside the domain
VARIANCE = 0.95  # of the standardised Magpie features, kept by the principal components


@dataclass(frozen=True, eq=False)
class Domain:
    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray  # (n_components, n_features)
    index: NearestNeighbors  # over the SuperCon compositions, projected; duplicates dropped
    spread: np.ndarray  # each composition's distance to its K nearest others
    threshold: float  # the COVERAGE quantile of `spread`

    def project(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean) / self.scale) @ self.components.T

    def distance(self, comps: list[Composition]) -> np.ndarray:
        """Mean distance to the K nearest SuperCon compositions, per component."""
        if not comps:
            return np.zeros(0)
        points = self.project(magpie_features(to_batch(comps)).astype(float))
        nearest, _ = self.index.kneighbors(points, n_neighbors=K)
        return nearest.mean(axis=1) / np.sqrt(self.components.shape[0])


@lru_cache(maxsize=1)
def supercon_domain() -> Domain:
    """The domain of SuperCon's compositions (built once per process, 2-3 s)."""
    return build([Composition(f) for f in data.load_supercon()["formula"]])


def build(comps: list[Composition]) -> Domain:
    """The domain of `comps` (see the module)."""
    from sklearn.neighbors import NearestNeighbors  # imported on first use: the CLI starts without it

    X = magpie_features(to_batch(comps)).astype(float)
    X = np.unique(X.round(6), axis=0)  # one point per composition
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    Z = (X - mean) / scale
    _, singular, vt = np.linalg.svd(Z - Z.mean(axis=0), full_matrices=False)
    share = np.cumsum(singular**2) / np.sum(singular**2)
    components = vt[: int(np.searchsorted(share, VARIANCE)) + 1]
    index = NearestNeighbors().fit(Z @ components.T)
    own, _ = index.kneighbors(n_neighbors=K)  # each entry's K nearest others
    spread = own.mean(axis=1) / np.sqrt(len(components))
    return Domain(mean, scale, components, index, spread, float(np.quantile(spread, COVERAGE)))


def assess(comps: list[Composition | None]) -> pd.DataFrame:
    """domain_distance (see the module) and in_domain for each composition; NaN and <NA> where None."""
    domain = supercon_domain()
    known = {i: c for i, c in enumerate(comps) if c is not None}
    distance = np.full(len(comps), np.nan)
    distance[list(known)] = domain.distance(list(known.values()))
    inside = pd.array([None if np.isnan(d) else bool(d <= domain.threshold) for d in distance], dtype="boolean")
    return pd.DataFrame({"domain_distance": distance, "in_domain": inside})


def describe(comp: Composition) -> tuple[bool, str]:
    """Whether `comp` is inside the domain, and a sentence saying so (the Predict page's notice)."""
    domain = supercon_domain()
    distance = float(domain.distance([comp])[0])
    reach = (f"{COVERAGE:.0%} of SuperCon's own entries lie within {domain.threshold:.2f} of their nearest other "
             "compositions (mean over 5, standardised Magpie features)")
    if distance <= domain.threshold:
        return True, (f"Inside what the models were trained on: its nearest SuperCon compositions are "
                      f"{distance:.2f} away; {reach}.")
    return False, (f"Outside what the models have seen: its nearest SuperCon compositions are {distance:.2f} away, "
                   f"while {reach}. Read a low P(superconductor) as unknown, not as no.")
