"""Train/test splits as boolean test masks: grouped (whole groups on one side) or stratified.

scikit-learn is imported by the functions that use it (it takes most of a second), not by importing this module.
"""

from __future__ import annotations

import numpy as np

TEST_FRACTION = 0.2


def group_split(groups: np.ndarray, seed: int, test_fraction: float = TEST_FRACTION) -> np.ndarray:
    """Boolean test mask: a random `test_fraction` of the groups (rows of one group stay together)."""
    from sklearn.model_selection import GroupShuffleSplit

    splitter = GroupShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
    _, test = next(splitter.split(groups, groups=groups))
    mask = np.zeros(len(groups), dtype=bool)
    mask[test] = True
    return mask


def stratified_split(labels: np.ndarray, seed: int, test_fraction: float = TEST_FRACTION) -> np.ndarray:
    """Boolean test mask of a stratified random split."""
    from sklearn.model_selection import StratifiedShuffleSplit

    splitter = StratifiedShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
    _, test = next(splitter.split(np.zeros(len(labels)), labels))
    mask = np.zeros(len(labels), dtype=bool)
    mask[test] = True
    return mask


def unseen_in_training(groups: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Boolean mask over the test rows: those whose group (e.g. reduced formula) no training row shares."""
    return ~np.isin(groups[test], groups[~test])
