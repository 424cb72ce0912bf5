"""Crystal graphs batched as tensors for the structure networks, the segment operations they need, and the
inference path they share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
import torch
from pymatgen.core import Structure
from torch import nn
from torch.nn import functional as F

from sc_core.calibration import fit_temperature
from sc_core.featurize.composition import feature_names
from sc_core.featurize.graph import CUTOFF, CrystalGraph
from sc_core.io import InputError
from sc_core.models.base import OUTPUT_COLUMNS, Model, Records
from sc_core.models.ensemble import (
    EnsembleLinear,
    NetworkConfig,
    NetworkModel,
    seeded,
    summarise,
    train_members,
    validation_mask,
)


@dataclass(frozen=True)
class GraphBatch:
    """Crystal graphs joined into one disconnected graph; `crystal` maps each node to its graph."""

    nodes: torch.Tensor  # (n_nodes, n_features)
    src: torch.Tensor  # (n_edges,)
    dst: torch.Tensor  # (n_edges,)
    distance: torch.Tensor  # (n_edges,)
    cell: torch.Tensor  # (n, 6)
    descriptors: torch.Tensor  # (n, d), d = 0 without composition descriptors
    crystal: torch.Tensor  # (n_nodes,)
    n: int

    def mean_over_cells(self, h: torch.Tensor) -> torch.Tensor:
        """(members, n, width) mean of node vectors (members, n_nodes, width) over each cell."""
        counts = torch.bincount(self.crystal, minlength=self.n).clamp(min=1)
        return h.new_zeros(h.shape[0], self.n, h.shape[2]).index_add_(1, self.crystal, h) / counts[:, None]


def collate(graphs: list[CrystalGraph]) -> GraphBatch:
    """One batch from a list of graphs, node indices shifted graph by graph."""
    sizes = np.array([len(g.nodes) for g in graphs])
    offsets = np.repeat(np.cumsum(sizes) - sizes, [len(g.src) for g in graphs])
    return GraphBatch(
        nodes=torch.from_numpy(np.concatenate([g.nodes for g in graphs])),
        src=torch.from_numpy(np.concatenate([g.src for g in graphs]) + offsets),
        dst=torch.from_numpy(np.concatenate([g.dst for g in graphs]) + offsets),
        distance=torch.from_numpy(np.concatenate([g.distance for g in graphs])),
        cell=torch.from_numpy(np.stack([g.cell for g in graphs])),
        descriptors=torch.from_numpy(np.stack([g.descriptors for g in graphs])),
        crystal=torch.from_numpy(np.repeat(np.arange(len(graphs)), sizes)),
        n=len(graphs),
    )


def gaussians(distance: torch.Tensor, n: int, top: float = CUTOFF) -> torch.Tensor:
    """(len(distance), n) expansion on `n` Gaussians evenly spaced over [0, top] Å, as wide as their spacing."""
    centres = torch.linspace(0.0, top, n)
    return torch.exp(-(((distance[:, None] - centres) / (centres[1] - centres[0])) ** 2))


def segment_softmax(scores: torch.Tensor, segment: torch.Tensor, n: int) -> torch.Tensor:
    """Softmax of (members, e) `scores` within each of the `n` segments named by `segment` (e,)."""
    index = segment.expand_as(scores)
    top = scores.new_full((scores.shape[0], n), -torch.inf).scatter_reduce(1, index, scores, "amax")
    weights = torch.exp(scores - top.gather(1, index))
    return weights / weights.new_zeros(scores.shape[0], n).index_add_(1, segment, weights).gather(1, index)


class CompositionChannel(nn.Module):
    """The composition's Magpie descriptors, standardised on the training graphs and embedded per member:
    a per-crystal input beside the graph, (members, n, out)."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, members: int, out: int):
        super().__init__()
        n_descriptors = len(feature_names())
        self.linear = EnsembleLinear(members, n_descriptors, out)
        self.register_buffer("mean", torch.zeros(n_descriptors))
        self.register_buffer("std", torch.ones(n_descriptors))

    def standardise_on(self, graphs: list[CrystalGraph]) -> None:
        """Set the standardisation from the descriptors of the training graphs; a descriptor constant on them is
        only centred (dividing by a vanishing spread would blow up any other value of it, far outside training)."""
        descriptors = torch.from_numpy(np.stack([g.descriptors for g in graphs]))
        std = descriptors.std(0)
        self.mean.copy_(descriptors.mean(0))
        self.std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        return F.softplus(self.linear((batch.descriptors - self.mean) / self.std))


@dataclass
class GraphObjective:
    """Minibatches of crystal graphs over the training rows (a fresh order each epoch) and their losses.

    `train_loss(batch, rows)` and `held_out()` return one loss per member.
    """

    graphs: list[CrystalGraph]
    rows: np.ndarray
    batch_size: int
    rng: np.random.Generator
    train_loss: Callable[[GraphBatch, torch.Tensor], torch.Tensor]
    held_out: Callable[[], torch.Tensor]

    @property
    def n_batches(self) -> int:
        return -(-len(self.rows) // self.batch_size)

    def batches(self) -> Iterator[tuple[GraphBatch, torch.Tensor]]:
        order = self.rng.permutation(self.rows)
        for start in range(0, len(order), self.batch_size):
            part = order[start : start + self.batch_size]
            yield collate([self.graphs[i] for i in part]), torch.from_numpy(part)

    def loss(self, batch: tuple[GraphBatch, torch.Tensor]) -> torch.Tensor:
        return self.train_loss(*batch)

    def val_loss(self) -> torch.Tensor:
        return self.held_out()


def pool_cells(h: torch.Tensor, batch: GraphBatch, composition: CompositionChannel | None,
               out: EnsembleLinear) -> torch.Tensor:
    """(members, n_crystals, out): the mean of node vectors `h` over each cell, joined by the embedded composition
    descriptors when there is a channel for them, through `out` and a ReLU."""
    pooled = batch.mean_over_cells(h)
    if composition is not None:
        pooled = torch.cat([pooled, composition(batch)], dim=2)
    return F.relu(out(pooled))


def targets(n: int, tc: np.ndarray | None, labels: np.ndarray | None, tc_scale: float
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Class (labels, else Tc ≠ 0: NaN is a superconductor of unknown Tc) and Tc / tc_scale (NaN: unknown)."""
    tc_values = np.full(n, np.nan) if tc is None else np.asarray(tc, dtype=float)
    y = torch.as_tensor(np.asarray(labels if labels is not None else tc_values != 0, dtype=np.float32))
    return y, torch.as_tensor(tc_values / tc_scale, dtype=torch.float32)


class GraphModel(NetworkModel, Model):
    """A structure model reading crystal graphs: graph building, the shared training loop and loss, batched
    ensemble inference, per-row errors."""

    kind = "structure"
    config: NetworkConfig

    def __init__(self, config: NetworkConfig | None = None, **overrides):
        super().__init__(config, **overrides)
        self.temperature = 1.0
        self.history: list[torch.Tensor] = []

    def graph(self, structure: Structure) -> CrystalGraph:
        raise NotImplementedError

    def train_graphs(self, graphs: list[CrystalGraph], compositions: list, y: torch.Tensor, t: torch.Tensor,
                     shuffle_seed: int, fresh: bool = True, frozen: tuple[nn.Module, ...] = (),
                     progress: bool = False) -> None:
        """Train the ensemble on graphs with classes `y` and scaled Tc `t` (:func:`targets`); a tenth of the
        compositions is held out for early stopping (per member) and the temperature. `fresh`: build the network
        first (else continue from the current one, e.g. pretrained); `frozen` modules keep their weights."""
        c = self.config
        val = validation_mask(compositions, c)
        train_idx, val_rows = np.flatnonzero(~val), torch.from_numpy(np.flatnonzero(val))
        val_batch = collate([graphs[i] for i in val_rows.numpy()])
        objective = GraphObjective(graphs, train_idx, c.batch_size, np.random.default_rng(shuffle_seed),
                                   lambda batch, rows: self._loss(batch, y[rows], t[rows]),
                                   lambda: self._loss(val_batch, y[val_rows], t[val_rows]))
        with seeded(c.random_state):
            if fresh:
                self.net = self.network()
            composition = getattr(self.net.backbone, "composition", None)
            if composition is not None:  # built when the config embeds the composition
                composition.standardise_on([graphs[i] for i in train_idx])
            for module in frozen:
                module.requires_grad_(False)
            self.history = train_members(self.net, [q for q in self.net.parameters() if q.requires_grad], objective,
                                         c, desc=self.name, progress=progress)
        self.net.requires_grad_(True)
        self.calibrate(val_batch, y[val_rows])

    def _loss(self, batch: GraphBatch, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Per-member BCE plus the squared error of scaled Tc on superconductors whose Tc is known."""
        logit, tc = self.net(batch)
        loss = F.binary_cross_entropy_with_logits(logit, y.expand_as(logit), reduction="none").mean(1)
        known = (y > 0) & ~torch.isnan(t)
        return loss + ((tc[:, known] - t[known]) ** 2).mean(1) if known.any() else loss

    def gradient_x_states(self, structure: Structure) -> np.ndarray:
        """Per-site gradient × input of the backbone's node vectors (``node_states``) on the classification logit
        through its ``readout`` (ensemble mean); positive pushes towards a superconductor."""
        batch = collate([self.graph(structure)])
        backbone = self.net.backbone
        with torch.no_grad():
            h = backbone.node_states(batch)
        h.requires_grad_(True)
        self.net.cls_branch(backbone.readout(h, batch)).mean().backward()
        return (cast(torch.Tensor, h.grad) * h).sum(-1).mean(0).detach().numpy()

    def calibrate(self, val_batch: GraphBatch, y_val: torch.Tensor) -> None:
        """Eval mode, then the temperature that best calibrates the mean logit on the validation graphs."""
        self.net.eval()
        with torch.no_grad():
            logits = self.net(val_batch)[0].mean(0).numpy()
        self.temperature = fit_temperature(logits, y_val.numpy())

    def predict_graphs(self, graphs: list[CrystalGraph], batch_size: int = 256) -> pd.DataFrame:
        """Ensemble mean and spread of calibrated P(superconductor) and of Tc."""
        logits, tcs = [], []
        with torch.inference_mode():
            for start in range(0, len(graphs), batch_size):
                logit, tc = self.net(collate(graphs[start : start + batch_size]))
                logits.append(logit.numpy())
                tcs.append(tc.numpy())
        return summarise(np.concatenate(logits, axis=1), np.concatenate(tcs, axis=1), self.temperature,
                         self.config.tc_scale)

    def graphs(self, structures: list[Structure]) -> list[CrystalGraph | InputError]:
        """:meth:`graph` of each structure, or the InputError that says why it has none (e.g. elements beyond
        Lr); a family that builds graphs in batches overrides this."""
        out: list[CrystalGraph | InputError] = []
        for structure in structures:
            try:
                out.append(self.graph(structure))
            except InputError as exc:
                out.append(exc)
        return out

    def _predict_valid(self, records: Records) -> pd.DataFrame:
        out = pd.DataFrame(index=range(len(records)), columns=OUTPUT_COLUMNS, dtype=float)
        found = self.graphs(records.table["structure"].tolist())
        out["error"] = [str(g) if isinstance(g, InputError) else "" for g in found]
        rows = [i for i, g in enumerate(found) if not isinstance(g, InputError)]
        if rows:
            predicted = self.predict_graphs([cast(CrystalGraph, found[i]) for i in rows])
            out.loc[rows, OUTPUT_COLUMNS] = predicted.to_numpy()
        return out
