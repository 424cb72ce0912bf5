"""Composition networks: Konno's reading-periodic-table CNN and Kaplan's dual-head FCNN and CNN.

* ``konno_cnn`` (Konno et al., PRB 103, 014509, 2021): the composition written into a 4 × 7 × 32 periodic
  table split into s, p, d and f blocks, read by convolutions; one head for P(superconductor) and one
  for Tc, trained jointly.
* ``kaplan_fcnn`` / ``kaplan_cnn`` (Kaplan et al. 2024): the composition as a 120-slot fraction vector,
  read by a fully connected backbone or as a 10 × 12 image by convolutions, with a Tc branch and a
  classification branch trained in two stages: backbone + Tc branch on every row (Tc = 0 for
  non-superconductors), then the classification branch on the frozen backbone.

Every model is an ensemble of ``n_members`` networks with different seeds: the mean is the prediction,
the spread ``p_sc_std`` / ``tc_std_K``. A tenth of the training compositions is held out for early
stopping and for a temperature that calibrates P(superconductor); test data never enter training.
Weights are saved as plain arrays (no pickles).
"""

from __future__ import annotations

import copy
from itertools import pairwise

import numpy as np
import pandas as pd
import torch
from pymatgen.core import Composition, Structure
from torch import nn
from tqdm import tqdm

from sc_core import checkpoints
from sc_core.calibration import apply_temperature, fit_temperature
from sc_core.chemistry import composition_key
from sc_core.data import load_elements
from sc_core.featurize.composition import (
    MAX_Z,
    TABLE_SHAPE,
    CompositionBatch,
    fraction_vector,
    periodic_table_tensor,
    to_batch,
)
from sc_core.models.base import FeatureModel
from sc_core.splits import group_split

TC_SCALE = 30.0  # K; regression targets are Tc / TC_SCALE
VALIDATION_FRACTION = 0.1


# -- networks ----------------------------------------------------------------------------------
def _mlp(*widths: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in pairwise(widths):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])  # no activation after the last layer


class DualHead(nn.Module):
    """A backbone producing a feature vector, a Tc branch and a classification branch."""

    def __init__(self, backbone: nn.Module, width: int):
        super().__init__()
        self.backbone = backbone
        self.tc_branch = _mlp(width, 64, 1)
        self.cls_branch = _mlp(width, 64, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(classification logit, Tc / TC_SCALE)."""
        h = self.backbone(x)
        return self.cls_branch(h).squeeze(-1), self.tc_branch(h).squeeze(-1)


def konno_backbone() -> nn.Module:
    """Convolutions over the (4, 7, 32) block-split periodic table, sized for CPU inference."""
    return nn.Sequential(
        nn.Conv2d(TABLE_SHAPE[0], 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # → 16 × 3 × 16
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # → 32 × 1 × 8
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(256, 128), nn.ReLU(),
    )


def kaplan_fcnn_backbone() -> nn.Module:
    """Fully connected layers over the 120-slot fraction vector."""
    return nn.Sequential(nn.Linear(120, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 128), nn.ReLU())


def kaplan_cnn_backbone() -> nn.Module:
    """Convolutions over the fraction vector read as a 10 × 12 image."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 10, 12)),
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # → 16 × 5 × 6
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),  # → 16 × 5 × 6
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(480, 128), nn.ReLU(),
    )


# -- estimator ---------------------------------------------------------------------------------
class CompositionNet(FeatureModel):
    """An ensemble of dual-head networks on a composition array; subclasses choose input and backbone."""

    kind = "composition"
    two_stage = False

    def __init__(self, n_members: int = 5, epochs: int = 60, batch_size: int = 128, lr: float = 2e-3,
                 weight_decay: float = 1e-2, random_state: int = 0):
        self.params = {"n_members": n_members, "epochs": epochs, "batch_size": batch_size, "lr": lr,
                       "weight_decay": weight_decay, "random_state": random_state}
        self.members: list[DualHead] = []
        self.temperature = 1.0
        self.card: dict = {}
        self.history: list[dict] = []

    @staticmethod
    def encode(batch: CompositionBatch) -> np.ndarray:
        """The network input for a batch of compositions."""
        raise NotImplementedError

    @staticmethod
    def backbone() -> nn.Module:
        raise NotImplementedError

    def network(self) -> DualHead:
        return DualHead(self.backbone(), 128)

    # -- training ------------------------------------------------------------------------------
    def fit(self, inputs: list[Composition | Structure], tc: np.ndarray | None = None,
            labels: np.ndarray | None = None, progress: bool = False) -> CompositionNet:
        """Train the ensemble on compositions and Tc in K (0 = not a superconductor).

        `labels` overrides ``tc > 0`` as the classification target; without `tc` only the
        classification branch learns (Kaplan's Tc stage is then skipped).
        """
        comps = [s.composition if isinstance(s, Structure) else s for s in inputs]
        X = torch.from_numpy(self.featurize(comps))
        y = torch.as_tensor(np.asarray(labels if labels is not None else np.asarray(tc) > 0, dtype=np.float32))
        t = torch.as_tensor(np.zeros(len(comps)) if tc is None else np.asarray(tc) / TC_SCALE, dtype=torch.float32)
        seed = self.params["random_state"]
        val = torch.from_numpy(group_split(np.array([composition_key(c) for c in comps]), seed, VALIDATION_FRACTION))
        self.members, self.history = [], []
        for member in range(self.params["n_members"]):
            torch.manual_seed(seed * 1000 + member)
            net = self.network()
            stages = (("tc", "cls") if self.two_stage else ("joint",)) if tc is not None else ("cls",)
            for stage in stages:
                self._train(net, stage, X, y, t, val, member, progress)
            self.members.append(net.eval())
        logits = self._member_outputs(X[val])[0].mean(axis=0)
        self.temperature = fit_temperature(logits, y[val].numpy())
        return self

    def _train(self, net: DualHead, stage: str, X, y, t, val, member: int, progress: bool) -> None:
        """One training stage with AdamW and one-cycle decay; the best validation epoch is kept."""
        frozen = stage == "cls" and self.two_stage  # Kaplan stage 2: the backbone stays as it is
        for p in net.backbone.parameters():
            p.requires_grad_(not frozen)
        p = self.params
        opt = torch.optim.AdamW([q for q in net.parameters() if q.requires_grad], lr=p["lr"],
                                weight_decay=p["weight_decay"])
        train_idx = torch.nonzero(~val).squeeze(1)
        steps = p["epochs"] * -(-len(train_idx) // p["batch_size"])
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=p["lr"], total_steps=steps)
        best, best_state = np.inf, None
        for epoch in tqdm(range(p["epochs"]), desc=f"{self.name} member {member + 1} {stage}", leave=False,
                          disable=not progress):
            net.train()
            if frozen:
                net.backbone.eval()
            for batch in train_idx[torch.randperm(len(train_idx))].split(p["batch_size"]):
                loss = self._loss(net, stage, X[batch], y[batch], t[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
            net.eval()
            with torch.no_grad():
                val_loss = float(self._loss(net, stage, X[val], y[val], t[val]))
            self.history.append({"member": member, "stage": stage, "epoch": epoch, "val_loss": val_loss})
            if val_loss < best:
                best, best_state = val_loss, copy.deepcopy(net.state_dict())
        net.load_state_dict(best_state)
        net.requires_grad_(True)

    def _loss(self, net: DualHead, stage: str, X, y, t) -> torch.Tensor:
        logit, tc = net(X)
        bce = nn.functional.binary_cross_entropy_with_logits(logit, y)
        if stage == "cls":
            return bce
        if stage == "tc":  # Kaplan: Tc on every row, 0 for non-superconductors
            return nn.functional.mse_loss(tc, t)
        sc = y > 0  # joint: Tc learned on superconductors only
        return bce + (nn.functional.mse_loss(tc[sc], t[sc]) if sc.any() else 0.0 * tc.sum())

    # -- inference -----------------------------------------------------------------------------
    def _member_outputs(self, X: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(members, n) logits and Tc in K."""
        with torch.inference_mode():
            outs = [net(X) for net in self.members]
        logits = torch.stack([o[0] for o in outs]).numpy()
        tcs = torch.stack([o[1] for o in outs]).numpy() * TC_SCALE
        return logits, np.maximum(tcs, 0.0)

    def featurize(self, inputs: list[Composition | Structure]) -> np.ndarray:
        """The network input for compositions (of structures, if given)."""
        return self.encode(to_batch([s.composition if isinstance(s, Structure) else s for s in inputs]))

    def predict_features(self, X: np.ndarray) -> pd.DataFrame:
        """Ensemble mean and spread of calibrated P(superconductor) and of Tc for an input array."""
        logits, tcs = self._member_outputs(torch.from_numpy(X))
        probs = apply_temperature(logits, self.temperature)
        return pd.DataFrame({"p_sc": probs.mean(0), "p_sc_std": probs.std(0), "tc_K": tcs.mean(0),
                             "tc_std_K": tcs.std(0)})

    def element_vectors(self) -> pd.DataFrame:
        """Backbone features of each pure element (Z = 1-103), averaged over the ensemble."""
        symbols = load_elements().set_index("Z").loc[1:MAX_Z, "symbol"]
        batch = CompositionBatch(z=np.arange(1, MAX_Z + 1)[:, None], x=np.ones((MAX_Z, 1)))
        X = torch.from_numpy(self.encode(batch))
        with torch.inference_mode():
            h = torch.stack([net.backbone(X) for net in self.members]).mean(0).numpy()
        return pd.DataFrame(h, index=symbols.to_numpy(), columns=[f"h{i}" for i in range(h.shape[1])])

    # -- persistence ---------------------------------------------------------------------------
    def save(self, card: dict, name: str | None = None) -> None:
        """Write every member's weights as arrays plus a card to ``checkpoints/<name>``."""
        arrays = {f"m{i}.{k}": v.numpy() for i, net in enumerate(self.members) for k, v in net.state_dict().items()}
        arrays["temperature"] = np.array(self.temperature)
        checkpoints.save(name or self.name, arrays, {**card, "params": self.params, "model": self.name})

    @classmethod
    def load(cls, name: str | None = None) -> CompositionNet:
        """Rebuild from a checkpoint after checking its hash."""
        arrays, card = checkpoints.load(name or cls.name)
        model = cls(**card["params"])
        for i in range(model.params["n_members"]):
            net = model.network()
            net.load_state_dict({k: torch.from_numpy(arrays[f"m{i}.{k}"]) for k in net.state_dict()})
            model.members.append(net.eval())
        model.temperature = float(arrays["temperature"])
        model.card, model.version = card, card.get("version", card["created"])
        return model


class KonnoCNN(CompositionNet):
    """Konno et al.'s reading-periodic-table CNN, classification and Tc heads trained jointly."""

    name = "konno_cnn"
    encode = staticmethod(periodic_table_tensor)
    backbone = staticmethod(konno_backbone)


class KaplanFCNN(CompositionNet):
    """Kaplan et al.'s fully connected dual-head network, trained in two stages."""

    name = "kaplan_fcnn"
    two_stage = True
    encode = staticmethod(fraction_vector)
    backbone = staticmethod(kaplan_fcnn_backbone)


class KaplanCNN(CompositionNet):
    """Kaplan et al.'s convolutional dual-head network on the 10 × 12 fraction image, two stages."""

    name = "kaplan_cnn"
    two_stage = True
    encode = staticmethod(fraction_vector)
    backbone = staticmethod(kaplan_cnn_backbone)
