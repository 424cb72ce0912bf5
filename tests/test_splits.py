"""Grouped and stratified test masks."""

import numpy as np

from sc_core import splits


def test_group_split_keeps_groups_together():
    groups = np.repeat(np.arange(100), 3)
    test = splits.group_split(groups, seed=0)
    for g in range(100):
        assert len(set(test[groups == g])) == 1
    assert 0.15 < test.mean() < 0.25
    assert not np.array_equal(test, splits.group_split(groups, seed=1))
    np.testing.assert_array_equal(test, splits.group_split(groups, seed=0))


def test_stratified_split_preserves_ratio():
    labels = np.array([1] * 100 + [0] * 300)
    test = splits.stratified_split(labels, seed=0)
    assert test.sum() == 80 and labels[test].sum() == 20


def test_unseen_in_training_marks_test_rows_of_groups_absent_from_training():
    groups = np.array(["A", "A", "B", "C", "C", "D"])
    test = np.array([False, True, True, False, True, True])
    np.testing.assert_array_equal(splits.unseen_in_training(groups, test), [False, True, False, True])
