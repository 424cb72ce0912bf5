"""Decision thresholds: the P(superconductor) at or above which a model's prediction reads "superconductor".

A model's threshold is chosen on its leave-one-family-out folds inside the training data (SuperCon and COD
garbage-in, each discovery family held out of training in turn and scored; ``sc evaluate``'s
``supercon/leave_family_out``): the cut of best balanced accuracy (Youden's J) on the held-out families' pooled
predictions.
A family the model has never seen tends to score lower than the families it was trained on, so this cut
usually sits below 0.5 and recalls more of a new family. A model without those folds (the structure models,
trained on 3DSC and S2S) keeps :data:`DEFAULT`. The cut and what it was chosen on are recorded on the checkpoint card.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT = 0.5  # the cut of a model without leave-family-out folds
CARD_FIELD = "decision_threshold"


def best_cut(y: np.ndarray, p: np.ndarray) -> float:
    """The cut on `p` of largest Youden's J (recall − false-positive rate, i.e. best balanced accuracy) for labels
    `y`; ties: the highest such cut. DEFAULT without both classes.

    J, unlike F1, does not depend on the share of positives: on held-out families, mostly superconductors,
    F1 is largest when every row is called a superconductor (J = 0 there).
    """
    y, p = np.asarray(y, dtype=bool), np.asarray(p, dtype=float)
    if y.all() or not y.any():
        return DEFAULT
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    last = np.r_[p_sorted[1:] != p_sorted[:-1], True]  # a cut keeps every row tied with it
    j = (np.cumsum(y_sorted) * (~y).sum() - np.cumsum(~y_sorted) * y.sum())[last]  # J × P × N, exact in integers
    return float(p_sorted[last][np.argmax(j)])


def cross_fitted(ys: Sequence[np.ndarray], ps: Sequence[np.ndarray]) -> list[float]:
    """For each fold, the :func:`best_cut` of the other folds pooled: a fold's score at its cut never saw its own
    labels in the choice."""
    return [best_cut(np.concatenate([y for j, y in enumerate(ys) if j != i]),
                    np.concatenate([p for j, p in enumerate(ps) if j != i])) for i in range(len(ys))]


def of(card: dict) -> float:
    """The decision threshold on a checkpoint card (DEFAULT when none was chosen)."""
    return float(card.get(CARD_FIELD, {}).get("value", DEFAULT))


def reading(p: float, cut: float, inside: bool = True) -> str:
    """How P reads against the decision threshold `cut`, in words (outside the domain a low P is "unknown")."""
    if p >= cut:
        return f"reads as a superconductor (P {p:.2f} ≥ threshold {cut:.2f})"
    if not inside:
        return (f"unknown: P {p:.2f} is below the threshold {cut:.2f}, but the material is outside what the model "
                "has seen")
    return f"reads as not a superconductor (P {p:.2f} < threshold {cut:.2f})"
