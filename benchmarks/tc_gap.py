"""Is the forest's Tc lead over the networks on 3DSC about the features or the learner?
``python benchmarks/tc_gap.py``

On the validation split of ``benchmarks/validation.py --dataset 3dsc`` (inside the training part of the
seed-0 formula-grouped split; the test fifth is never read) it fits, on the forest's own inputs (Magpie
descriptors plus global structure descriptors, standardised on the training rows), the baseline's Tc
forest and a plain two-layer network trained like the structure networks (AdamW, one-cycle schedule,
batch 64, lr 2e-3, weight decay 1e-2), with and without the joint classification loss, and prints Tc MAE
and R² on the validation superconductors.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error, r2_score, roc_auc_score
from torch import nn
from torch.nn import functional as F
from validation import validation_split

from sc_core.models.baseline import MagpieForest
from sc_core.models.ensemble import TC_SCALE

SETTINGS = ((True, 60), (False, 60), (True, 150))  # (joint classification loss, epochs)


def mlp_fit_predict(Z: torch.Tensor, tc: torch.Tensor, rows: np.ndarray, joint: bool, epochs: int,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Train on `rows` (superconductors only without `joint`); return Tc (K) and logits for every row."""
    torch.manual_seed(seed)
    body = nn.Sequential(nn.Linear(Z.shape[1], 256), nn.ReLU(), nn.Dropout(0.1), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 2))
    rows = torch.from_numpy(rows if joint else rows[tc.numpy()[rows] > 0])
    opt = torch.optim.AdamW(body.parameters(), 2e-3, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=epochs * -(-len(rows) // 64))
    for _ in range(epochs):
        body.train()
        for batch in rows[torch.randperm(len(rows))].split(64):
            out, sc = body(Z[batch]), tc[batch] > 0
            loss = ((out[sc, 1] - tc[batch][sc] / TC_SCALE) ** 2).mean()
            if joint:
                loss = loss + F.binary_cross_entropy_with_logits(out[:, 0], sc.float())
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    body.eval()
    with torch.no_grad():
        out = body(Z)
    return (out[:, 1] * TC_SCALE).clamp(min=0).numpy(), out[:, 0].numpy()


def main() -> None:
    torch.set_num_threads(1)
    structures, tc, val = validation_split("3dsc")
    X = np.nan_to_num(MagpieForest(use_structure=True).featurize(structures))
    train, test = np.flatnonzero(~val), np.flatnonzero(val)
    sc_train, sc_val = train[tc[train] > 0], test[tc[test] > 0]
    print(f"3DSC validation split: {len(train):,} training structures ({len(sc_train):,} superconductors), "
          f"{len(sc_val):,} validation superconductors; {X.shape[1]} features")

    def report(name: str, pred: np.ndarray, seconds: float, extra: str = "") -> None:
        print(f"  {name:<40} Tc MAE {mean_absolute_error(tc[sc_val], pred):5.2f} K  "
              f"R² {r2_score(tc[sc_val], pred):.3f}{extra}  ({seconds:.0f} s)")

    start = time.time()
    forest = RandomForestRegressor(100, max_features=1 / 3, n_jobs=1, random_state=0).fit(X[sc_train], tc[sc_train])
    report("forest (the baseline's Tc regressor)", forest.predict(X[sc_val]), time.time() - start)
    mean, std = X[train].mean(0), X[train].std(0) + 1e-6
    Z = torch.tensor((X - mean) / std, dtype=torch.float32)
    for joint, epochs in SETTINGS:
        start = time.time()
        pred, logit = mlp_fit_predict(Z, torch.tensor(tc, dtype=torch.float32), train, joint, epochs)
        auc = f"  ROC-AUC {roc_auc_score(tc[test] > 0, logit[test]):.3f}" if joint else ""
        label = f"network, {'joint loss' if joint else 'Tc only'}, {epochs} epochs"
        report(label, pred[sc_val], time.time() - start, auc)


if __name__ == "__main__":
    main()
