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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from pymatgen.core import Composition, Structure
from torch import nn

from sc_core import data
from sc_core.calibration import fit_temperature
from sc_core.elements import MAX_Z, vectors_table
from sc_core.featurize.composition import (
    TABLE_SHAPE,
    VECTOR_LENGTH,
    CompositionBatch,
    fraction_vector,
    periodic_table_tensor,
)
from sc_core.models.base import FeatureModel
from sc_core.models.ensemble import (
    DualHead,
    EnsembleLinear,
    MemberFeatures,
    NetworkConfig,
    NetworkModel,
    seeded,
    summarise,
    train_members,
    validation_mask,
)


@dataclass(frozen=True)
class CompositionNetConfig(NetworkConfig):
    """A composition network: the backbone's channel (or hidden) widths, its output width and dropout."""

    channels: tuple[int, ...] = (8, 16)
    width: int = 128
    dropout: float = 0.2


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


def konno_backbone(members: int, c: CompositionNetConfig) -> nn.Module:
    """Strided convolutions over the (4, 7, 32) block-split periodic table, sized for CPU inference."""
    c1, c2 = c.channels
    first = nn.Conv2d(TABLE_SHAPE[0], members * c1, 3, stride=2, padding=1)  # → c1 × 4 × 16 per member
    return nn.Sequential(
        ElementAffine(first, _pure_elements(periodic_table_tensor)), nn.ReLU(),
        nn.Conv2d(members * c1, members * c2, 3, stride=2, padding=1, groups=members), nn.ReLU(),  # → c2 × 2 × 8
        MemberFeatures(members), nn.Dropout(c.dropout), EnsembleLinear(members, c2 * 16, c.width), nn.ReLU(),
    )


def kaplan_fcnn_backbone(members: int, c: CompositionNetConfig) -> nn.Module:
    """Fully connected layers over the 120-slot fraction vector."""
    (hidden,) = c.channels
    return nn.Sequential(EnsembleLinear(members, VECTOR_LENGTH, hidden), nn.ReLU(), nn.Dropout(c.dropout),
                         EnsembleLinear(members, hidden, c.width), nn.ReLU())


def kaplan_cnn_backbone(members: int, c: CompositionNetConfig) -> nn.Module:
    """Convolutions over the fraction vector read as a 10 × 12 image."""
    c1, c2 = c.channels
    first = nn.Sequential(nn.Unflatten(1, (1, 10, 12)), nn.Conv2d(1, members * c1, 3, stride=2, padding=1))
    return nn.Sequential(
        ElementAffine(first, _pure_elements(fraction_vector)), nn.ReLU(),  # → c1 × 5 × 6 per member
        nn.Conv2d(members * c1, members * c2, 3, padding=1, groups=members), nn.ReLU(),  # → c2 × 5 × 6
        MemberFeatures(members), nn.Dropout(c.dropout), EnsembleLinear(members, c2 * 30, c.width), nn.ReLU(),
    )


@dataclass
class TensorObjective:
    """Minibatches of (fraction vectors, labels, scaled Tc) over the training rows, and a stage's loss."""

    net: CompositionNet
    stage: str
    X: torch.Tensor
    y: torch.Tensor
    t: torch.Tensor
    val: torch.Tensor
    batch_size: int
    generator: torch.Generator

    @property
    def n_batches(self) -> int:
        return -(-int((~self.val).sum()) // self.batch_size)

    def batches(self):
        rows = torch.nonzero(~self.val).squeeze(1)
        for batch in rows[torch.randperm(len(rows), generator=self.generator)].split(self.batch_size):
            yield self.X[batch], self.y[batch], self.t[batch]

    def loss(self, batch) -> torch.Tensor:
        return self.net.loss(self.stage, *batch)

    def val_loss(self) -> torch.Tensor:
        return self.net.loss(self.stage, self.X[self.val], self.y[self.val], self.t[self.val])


# -- estimator ---------------------------------------------------------------------------------
class CompositionNet(NetworkModel, FeatureModel):
    """An ensemble of dual-head networks on the fraction vector; subclasses choose the backbone."""

    kind = "composition"
    config_class = CompositionNetConfig
    config: CompositionNetConfig
    net: DualHead[nn.Module]
    two_stage = False

    def __init__(self, config: CompositionNetConfig | None = None, **overrides):
        super().__init__(config, **overrides)
        self.temperature = 1.0
        self.history: list[dict] = []

    @staticmethod
    def backbone(members: int, c: CompositionNetConfig) -> nn.Module:
        raise NotImplementedError

    def network(self) -> DualHead[nn.Module]:
        c = self.config
        return DualHead(self.backbone(c.n_members, c), c.n_members, c.width, c.head_width)

    @classmethod
    def train_deployed(cls, seed: int = 0, progress: bool = False) -> tuple[CompositionNet, dict]:
        """SuperCon (minus the Hosono 2018 list) plus COD garbage-in."""
        comps, tc, described = data.deployed_training_set(seed)
        return cls(random_state=seed).fit(comps, tc=tc, progress=progress), described

    # -- training ------------------------------------------------------------------------------
    def fit(self, inputs: Sequence[Composition | Structure], tc: np.ndarray | None = None,
            labels: np.ndarray | None = None, progress: bool = False) -> CompositionNet:
        """Train the ensemble on compositions and Tc in K (0 = not a superconductor).

        `labels` overrides ``tc > 0`` as the classification target; without `tc` only the
        classification branch learns (Kaplan's Tc stage is then skipped).
        """
        c = self.config
        comps = [s.composition if isinstance(s, Structure) else s for s in inputs]
        X = torch.from_numpy(self.featurize(comps))
        y = torch.as_tensor(np.asarray(labels if labels is not None else np.asarray(tc) > 0, dtype=np.float32))
        t = torch.as_tensor(np.zeros(len(comps)) if tc is None else np.asarray(tc) / c.tc_scale, dtype=torch.float32)
        val = torch.from_numpy(validation_mask(comps, c))
        generator = torch.Generator().manual_seed(c.random_state)
        self.history = []
        stages = (("tc", "cls") if self.two_stage else ("joint",)) if tc is not None else ("cls",)
        with seeded(c.random_state):
            self.net = self.network()
            for stage in stages:
                self._train(TensorObjective(self, stage, X, y, t, val, c.batch_size, generator), progress)
        self.net.eval()
        logits = self._member_outputs(X[val])[0].mean(axis=0)
        self.temperature = fit_temperature(logits, y[val].numpy())
        return self

    def _train(self, objective: TensorObjective, progress: bool) -> None:
        """One training stage; Kaplan's second stage trains the classification branch on the frozen backbone."""
        net, stage = self.net, objective.stage
        frozen = stage == "cls" and self.two_stage
        net.backbone.requires_grad_(not frozen)
        losses = train_members(net, [q for q in net.parameters() if q.requires_grad], objective, self.config,
                               frozen=net.backbone if frozen else None, desc=f"{self.name} {stage}",
                               progress=progress)
        self.history += [{"member": m, "stage": stage, "epoch": epoch, "val_loss": float(v)}
                         for epoch, per_member in enumerate(losses) for m, v in enumerate(per_member)]
        net.requires_grad_(True)

    def loss(self, stage: str, X, y, t) -> torch.Tensor:
        """Per-member loss of a training stage, shape (members,)."""
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
        """(members, n) logits and scaled Tc, in chunks small enough to stay in cache (1024: twice as fast as 4096)."""
        with torch.inference_mode():
            outs = [self.net(part) for part in X.split(chunk)]
        return torch.cat([o[0] for o in outs], dim=1).numpy(), torch.cat([o[1] for o in outs], dim=1).numpy()

    def featurize_batch(self, batch: CompositionBatch, structures: list[Structure] | None = None) -> np.ndarray:
        """The fraction vector of compositions; the backbone lays it out."""
        return fraction_vector(batch)

    def predict_features(self, X: np.ndarray) -> pd.DataFrame:
        """Ensemble mean and spread of calibrated P(superconductor) and of Tc for an input array."""
        return summarise(*self._member_outputs(torch.from_numpy(X)), self.temperature, self.config.tc_scale)

    def element_vectors(self, stage: str | None = None) -> pd.DataFrame:
        """Backbone features of each pure element (Z = 1-103), averaged over the ensemble."""
        X = torch.from_numpy(fraction_vector(CompositionBatch(z=np.arange(1, MAX_Z + 1)[:, None],
                                                              x=np.ones((MAX_Z, 1)))))
        with torch.inference_mode():
            return vectors_table(self.net.backbone(X).mean(0).numpy())


@dataclass(frozen=True)
class KaplanFCNNConfig(CompositionNetConfig):
    channels: tuple[int, ...] = (256,)  # one hidden layer


@dataclass(frozen=True)
class KaplanCNNConfig(CompositionNetConfig):
    channels: tuple[int, ...] = (16, 16)


class KonnoCNN(CompositionNet):
    """Konno et al.'s reading-periodic-table CNN, classification and Tc heads trained jointly."""

    name = "konno_cnn"
    features = "the block-split periodic table (4 × 7 × 32) of the composition (sc_core.featurize.composition)"
    backbone = staticmethod(konno_backbone)


class KaplanFCNN(CompositionNet):
    """Kaplan et al.'s fully connected dual-head network, trained in two stages."""

    name = "kaplan_fcnn"
    two_stage = True
    features = "the 120-slot fraction vector of the composition (sc_core.featurize.composition)"
    backbone = staticmethod(kaplan_fcnn_backbone)
    config_class = KaplanFCNNConfig


class KaplanCNN(CompositionNet):
    """Kaplan et al.'s convolutional dual-head network on the 10 × 12 fraction image, two stages."""

    name = "kaplan_cnn"
    two_stage = True
    features = "the 120-slot fraction vector of the composition as a 10 × 12 image (sc_core.featurize.composition)"
    backbone = staticmethod(kaplan_cnn_backbone)
    config_class = KaplanCNNConfig
