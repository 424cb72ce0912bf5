"""Decision thresholds: best-J cuts, cross-fitted per fold, read from a card, read in words."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sc_core import thresholds


def _j(y: np.ndarray, p: np.ndarray, cut: float) -> float:
    pred = p >= cut
    return (pred & y).sum() / y.sum() - (pred & ~y).sum() / (~y).sum()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from([0.0, 0.1, 0.25, 0.4, 0.5, 0.7, 0.9, 1.0])),
                min_size=1, max_size=40))
def test_best_cut_is_the_best_cut_among_the_scores(rows):
    y, p = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    cut = thresholds.best_cut(y, p)
    if y.all() or not y.any():
        assert cut == thresholds.DEFAULT
        return
    best = max(_j(y, p, c) for c in np.unique(p))
    assert _j(y, p, cut) == pytest.approx(best)
    assert cut == max(c for c in np.unique(p) if _j(y, p, c) == pytest.approx(best))  # ties: the highest cut


def test_best_cut_on_a_worked_example_where_f1_would_call_everything_positive():
    y = np.array([1, 1, 1, 1, 1, 1, 0, 1, 0, 0], dtype=bool)
    p = np.array([0.9, 0.8, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.2, 0.1])
    # recall − false-positive rate at 0.4: 6/7 − 0 (best); at 0.1 (everything positive, best F1): 1 − 1 = 0
    assert thresholds.best_cut(y, p) == 0.4


def test_cross_fitted_cut_never_uses_its_own_fold():
    ys = [np.array([1, 0], dtype=bool), np.array([1, 0], dtype=bool), np.array([1, 1, 1, 0], dtype=bool)]
    ps = [np.array([0.9, 0.1]), np.array([0.8, 0.2]), np.array([0.3, 0.3, 0.3, 0.05])]
    cuts = thresholds.cross_fitted(ys, ps)
    assert cuts[2] == thresholds.best_cut(np.r_[ys[0], ys[1]], np.r_[ps[0], ps[1]]) == 0.8
    assert cuts[0] == thresholds.best_cut(np.r_[ys[1], ys[2]], np.r_[ps[1], ps[2]]) == 0.3
    assert thresholds.best_cut(np.concatenate(ys), np.concatenate(ps)) == 0.3  # the pooled cut differs from cuts[2]


def test_card_threshold_or_the_default():
    assert thresholds.of({}) == thresholds.DEFAULT
    assert thresholds.of({thresholds.CARD_FIELD: {"value": 0.31}}) == 0.31
