"""Composition networks: Konno's reading-periodic-table CNN and Kaplan's dual-head FCNN and CNN.

* ``konno_cnn`` (Konno et al., PRB 103, 014509, 2021): the composition written into a 4 × 7 × 32 periodic
  table split into s, p, d and f blocks, read by convolutions; one head for P(superconductor) and one
  for Tc, trained jointly.
* ``kaplan_fcnn`` / ``kaplan_cnn`` (Kaplan et al. 2024): the composition as a 120-slot fraction vector,
  read by a fully connected backbone or as a 10 × 12 image by convolutions, with a Tc branch and a
  classification branch trained in two stages: backbone + Tc branch on every row (Tc = 0 for
  non-superconductors), then the classification branch on the frozen backbone.

Every model is an ensemble of ``n_members`` independently initialised networks, run as one batched
network: the mean is the prediction, the spread ``p_sc_std`` / ``tc_std_K``. The first layer of the
convolutional backbones is evaluated element by element (:class:`ElementAffine`), exactly and without
building the mostly empty image. A tenth of the training compositions is held out for early
stopping and for a temperature that calibrates P(superconductor); test data never enter training.
Weights are saved as plain arrays (no pickles).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from pymatgen.core import Composition, Structure
from torch import nn

from sc_core.calibration import fit_temperature
from sc_core.data import load_elements
from sc_core.featurize.composition import (
    MAX_Z,
    TABLE_SHAPE,
    VECTOR_LENGTH,
    CompositionBatch,
    fraction_vector,
    periodic_table_tensor,
    to_batch,
)
from sc_core.models.base import FeatureModel
from sc_core.models.ensemble import (
    TC_SCALE,
    DualHead,
    EnsembleLinear,
    MemberFeatures,
    NetworkCheckpoint,
    summarise,
    train_members,
    validation_mask,
)


# -- networks ----------------------------------------------------------------------------------
class ElementAffine(nn.Module):
    """An affine layer over an image that is linear in the atomic fractions, evaluated element by element.

    ``layer(image(c)) = b + Σ_i x_i (layer(image(e_i)) − b)`` for the pure-element images ``e_i``: exact,
    and it costs one gathered row per element present instead of a pass over a mostly empty image.
    The input is the (n, ≥ MAX_Z) fraction vector, column Z − 1.
    """

    def __init__(self, layer: nn.Module, element_images: torch.Tensor):
        super().__init__()
        self.layer = layer
        empty = torch.zeros_like(element_images[:1])
        self.register_buffer("images", torch.cat([empty, element_images]), persistent=False)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        out = self.layer(self.images)  # row 0: the empty image, i.e. the bias
        bias, table = out[0], (out[1:] - out[0]).flatten(1)
        rows, cols = v[:, :MAX_Z].nonzero(as_tuple=True)  # row-major, so rows ascend
        offsets = torch.searchsorted(rows, torch.arange(len(v)))
        h = nn.functional.embedding_bag(cols, table, offsets, mode="sum", per_sample_weights=v[rows, cols])
        return h.view(len(v), *bias.shape) + bias


def _pure_elements(encode) -> torch.Tensor:
    """The input image of each pure element Z = 1..MAX_Z."""
    batch = CompositionBatch(z=np.arange(1, MAX_Z + 1)[:, None], x=np.ones((MAX_Z, 1)))
    return torch.from_numpy(encode(batch))


def konno_backbone(members: int) -> nn.Module:
    """Strided convolutions over the (4, 7, 32) block-split periodic table, sized for CPU inference."""
    first = nn.Conv2d(TABLE_SHAPE[0], members * 8, 3, stride=2, padding=1)  # → 8 × 4 × 16 per member
    return nn.Sequential(
        ElementAffine(first, _pure_elements(periodic_table_tensor)), nn.ReLU(),
        nn.Conv2d(members * 8, members * 16, 3, stride=2, padding=1, groups=members), nn.ReLU(),  # → 16 × 2 × 8
        MemberFeatures(members), nn.Dropout(0.2), EnsembleLinear(members, 256, 128), nn.ReLU(),
    )


def kaplan_fcnn_backbone(members: int) -> nn.Module:
    """Fully connected layers over the 120-slot fraction vector."""
    return nn.Sequential(EnsembleLinear(members, VECTOR_LENGTH, 256), nn.ReLU(), nn.Dropout(0.2),
                         EnsembleLinear(members, 256, 128), nn.ReLU())


def kaplan_cnn_backbone(members: int) -> nn.Module:
    """Convolutions over the fraction vector read as a 10 × 12 image."""
    first = nn.Sequential(nn.Unflatten(1, (1, 10, 12)), nn.Conv2d(1, members * 16, 3, stride=2, padding=1))
    return nn.Sequential(
        ElementAffine(first, _pure_elements(fraction_vector)), nn.ReLU(),  # → 16 × 5 × 6 per member
        nn.Conv2d(members * 16, members * 16, 3, padding=1, groups=members), nn.ReLU(),  # → 16 × 5 × 6
        MemberFeatures(members), nn.Dropout(0.2), EnsembleLinear(members, 480, 128), nn.ReLU(),
    )


# -- estimator ---------------------------------------------------------------------------------
class CompositionNet(NetworkCheckpoint, FeatureModel):
    """An ensemble of dual-head networks on the fraction vector; subclasses choose the backbone."""

    kind = "composition"
    two_stage = False
    reads: str  # what the backbone reads, for the checkpoint card

    def __init__(self, n_members: int = 5, epochs: int = 150, batch_size: int = 256, lr: float = 4e-3,
                 weight_decay: float = 1e-2, random_state: int = 0):
        self.params = {"n_members": n_members, "epochs": epochs, "batch_size": batch_size, "lr": lr,
                       "weight_decay": weight_decay, "random_state": random_state}
        self.net: DualHead | None = None
        self.temperature = 1.0
        self.card: dict = {}
        self.history: list[dict] = []

    @staticmethod
    def backbone(members: int) -> nn.Module:
        raise NotImplementedError

    def network(self) -> DualHead:
        members = self.params["n_members"]
        return DualHead(self.backbone(members), members)

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
        val = torch.from_numpy(validation_mask(comps, seed))
        torch.manual_seed(seed)
        self.net, self.history = self.network(), []
        stages = (("tc", "cls") if self.two_stage else ("joint",)) if tc is not None else ("cls",)
        for stage in stages:
            self._train(stage, X, y, t, val, progress)
        self.net.eval()
        logits = self._member_outputs(X[val])[0].mean(axis=0)
        self.temperature = fit_temperature(logits, y[val].numpy())
        return self

    def _train(self, stage: str, X, y, t, val, progress: bool) -> None:
        """One training stage; Kaplan's second stage trains the classification branch on the frozen backbone."""
        net, p = self.net, self.params
        frozen = stage == "cls" and self.two_stage
        net.backbone.requires_grad_(not frozen)
        train_idx = torch.nonzero(~val).squeeze(1)

        def batches():
            for batch in train_idx[torch.randperm(len(train_idx))].split(p["batch_size"]):
                yield X[batch], y[batch], t[batch]

        losses = train_members(
            net, [q for q in net.parameters() if q.requires_grad], lambda b: self._loss(stage, *b), batches,
            -(-len(train_idx) // p["batch_size"]), lambda: self._loss(stage, X[val], y[val], t[val]),
            p["epochs"], p["lr"], p["weight_decay"], frozen=net.backbone if frozen else None,
            desc=f"{self.name} {stage}", progress=progress)
        self.history += [{"member": m, "stage": stage, "epoch": epoch, "val_loss": float(v)}
                         for epoch, per_member in enumerate(losses) for m, v in enumerate(per_member)]
        net.requires_grad_(True)

    def _loss(self, stage: str, X, y, t) -> torch.Tensor:
        """Per-member loss, shape (members,)."""
        logit, tc = self.net(X)
        bce = nn.functional.binary_cross_entropy_with_logits(logit, y.expand_as(logit), reduction="none").mean(1)
        if stage == "cls":
            return bce
        if stage == "tc":  # Kaplan: Tc on every row, 0 for non-superconductors
            return ((tc - t) ** 2).mean(1)
        sc = y > 0  # joint: Tc learned on superconductors only
        return bce + (((tc[:, sc] - t[sc]) ** 2).mean(1) if sc.any() else 0.0 * tc.sum(1))

    # -- inference -----------------------------------------------------------------------------
    def _member_outputs(self, X: torch.Tensor, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
        """(members, n) logits and scaled Tc, in chunks small enough to stay in cache (1024 is twice as fast as 4096)."""
        with torch.inference_mode():
            outs = [self.net(part) for part in X.split(chunk)]
        return torch.cat([o[0] for o in outs], dim=1).numpy(), torch.cat([o[1] for o in outs], dim=1).numpy()

    def featurize(self, inputs: list[Composition | Structure]) -> np.ndarray:
        """The fraction vector of compositions (of structures, if given); the backbone lays it out."""
        return fraction_vector(to_batch([s.composition if isinstance(s, Structure) else s for s in inputs]))

    def predict_features(self, X: np.ndarray) -> pd.DataFrame:
        """Ensemble mean and spread of calibrated P(superconductor) and of Tc for an input array."""
        return summarise(*self._member_outputs(torch.from_numpy(X)), self.temperature)

    def element_vectors(self) -> pd.DataFrame:
        """Backbone features of each pure element (Z = 1-103), averaged over the ensemble."""
        symbols = load_elements().set_index("Z").loc[1:MAX_Z, "symbol"]
        X = torch.from_numpy(fraction_vector(CompositionBatch(z=np.arange(1, MAX_Z + 1)[:, None],
                                                              x=np.ones((MAX_Z, 1)))))
        with torch.inference_mode():
            h = self.net.backbone(X).mean(0).numpy()
        return pd.DataFrame(h, index=symbols.to_numpy(), columns=[f"h{i}" for i in range(h.shape[1])])


class KonnoCNN(CompositionNet):
    """Konno et al.'s reading-periodic-table CNN, classification and Tc heads trained jointly."""

    name = "konno_cnn"
    reads = "the block-split periodic table (4 × 7 × 32) of the composition"
    backbone = staticmethod(konno_backbone)


class KaplanFCNN(CompositionNet):
    """Kaplan et al.'s fully connected dual-head network, trained in two stages."""

    name = "kaplan_fcnn"
    two_stage = True
    reads = "the 120-slot fraction vector of the composition"
    backbone = staticmethod(kaplan_fcnn_backbone)


class KaplanCNN(CompositionNet):
    """Kaplan et al.'s convolutional dual-head network on the 10 × 12 fraction image, two stages."""

    name = "kaplan_cnn"
    two_stage = True
    reads = "the 120-slot fraction vector of the composition as a 10 × 12 image"
    backbone = staticmethod(kaplan_cnn_backbone)
