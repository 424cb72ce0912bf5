"""Decision thresholds: the P(superconductor) at or above which a model's prediction reads "superconductor".

A model's threshold is chosen on its leave-one-family-out folds inside the training data (SuperCon and COD
garbage-in, each discovery family held out of training in turn and scored; ``sc evaluate``'s
``supercon/leave_family_out``): the cut that maximises F1 on the held-out families' pooled predictions.
A family the model has never seen scores lower than the families it was trained on, so this cut sits below
0.5 and recalls more of a new family. A model without those folds (the structure models, trained on 3DSC and
S2S) keeps :data:`DEFAULT`. The cut and what it was chosen on are recorded on the checkpoint card.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT = 0.5  # the cut of a model without leave-family-out folds
CARD_FIELD = "decision_threshold"


def best_f1(y: np.ndarray, p: np.ndarray) -> float:
    """The cut on `p` that maximises F1 for labels `y` (ties: the highest such cut); DEFAULT without positives."""
    y, p = np.asarray(y, dtype=bool), np.asarray(p, dtype=float)
    if not y.any():
        return DEFAULT
    order = np.argsort(-p, kind="stable")
    p_sorted, hits = p[order], np.cumsum(y[order])
    last = np.r_[p_sorted[1:] != p_sorted[:-1], True]  # a cut keeps every row tied with it
    predicted = np.arange(1, len(p) + 1)[last]
    f1 = 2 * hits[last] / (predicted + y.sum())
    return float(p_sorted[last][np.argmax(f1)])


def cross_fitted(ys: Sequence[np.ndarray], ps: Sequence[np.ndarray]) -> list[float]:
    """For each fold, the :func:`best_f1` cut of the other folds pooled: a fold's score at its cut never saw
    its own labels in the choice."""
    return [best_f1(np.concatenate([y for j, y in enumerate(ys) if j != i]),
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
