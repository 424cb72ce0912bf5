"""Crystal graphs batched as tensors for the structure networks, the segment operations they need, and the
inference path they share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

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
from sc_core.models.ensemble import EnsembleLinear, NetworkConfig, NetworkModel, summarise


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


class GraphModel(NetworkModel, Model):
    """A structure model reading crystal graphs: graph building, batched ensemble inference, per-row errors."""

    kind = "structure"
    config: NetworkConfig

    def __init__(self, config: NetworkConfig | None = None, **overrides):
        super().__init__(config, **overrides)
        self.temperature = 1.0
        self.history: list[torch.Tensor] = []

    def graph(self, structure: Structure) -> CrystalGraph:
        raise NotImplementedError

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

    def _predict_valid(self, records: Records) -> pd.DataFrame:
        out = pd.DataFrame(index=range(len(records)), columns=OUTPUT_COLUMNS, dtype=float)
        out["error"] = ""
        graphs, rows = [], []
        for i, structure in enumerate(records.table["structure"]):
            try:
                graphs.append(self.graph(structure))
                rows.append(i)
            except InputError as exc:  # e.g. elements beyond Lr
                out.loc[i, "error"] = str(exc)
        if graphs:
            out.loc[rows, OUTPUT_COLUMNS] = self.predict_graphs(graphs).to_numpy()
        return out
