"""Why a model predicts what it does: contributions of the elements of a composition."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pymatgen.core import Composition

from sc_core.io import InputError
from sc_core.models.base import Model

# Reference prediction for "no element left" (one-element compositions): an undecided P and Tc = 0 K.
EMPTY_P_SC = 0.5
EMPTY_TC_K = 0.0


def _without(fractions: dict[str, float], symbol: str) -> Composition:
    """The composition without `symbol`, the other atomic fractions rescaled to sum to 1."""
    rest = {el: x for el, x in fractions.items() if el != symbol}
    total = sum(rest.values())
    return Composition({el: x / total for el, x in rest.items()})


def element_contributions(model: Model, composition: Composition) -> pd.DataFrame:
    """Per-element contributions to a prediction, by occlusion (model-agnostic).

    Each element is removed in turn and the other fractions renormalised; ``delta_p`` and ``delta_tc_K``
    are the full prediction minus the prediction without the element (positive: the element pushes towards
    a superconductor / a higher Tc). A one-element composition has nothing left after removal: its deltas
    are taken against P = 0.5 and Tc = 0 K. All variants go through one ``model.predict`` call; a variant
    the model cannot predict gets NaN deltas. Columns: element, fraction, delta_p, delta_tc_K, sorted by
    |delta_p| descending. Raises InputError for an empty composition or when the full prediction fails.
    """
    fractions = {el.symbol: x for el, x in composition.fractional_composition.items()} if composition else {}
    if not fractions:
        raise InputError("The composition is empty: give at least one element.")
    symbols = list(fractions)
    variants = [_without(fractions, s) for s in symbols] if len(symbols) > 1 else []
    pred = model.predict([composition, *variants])
    if pred["error"].iloc[0]:
        raise InputError(pred["error"].iloc[0])
    full = pred.iloc[0]
    if variants:
        rest = pred.iloc[1:]
        ok = (rest["error"] == "").to_numpy()
        ref_p = np.where(ok, rest["p_sc"].to_numpy(dtype=float), np.nan)
        ref_tc = np.where(ok, rest["tc_K"].to_numpy(dtype=float), np.nan)
    else:
        ref_p, ref_tc = np.array([EMPTY_P_SC]), np.array([EMPTY_TC_K])
    out = pd.DataFrame({"element": symbols, "fraction": [fractions[s] for s in symbols],
                        "delta_p": float(full["p_sc"]) - ref_p, "delta_tc_K": float(full["tc_K"]) - ref_tc})
    return out.sort_values("delta_p", key=np.abs, ascending=False, kind="stable", ignore_index=True)
