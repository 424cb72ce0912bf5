"""Crystal-graph network for P(superconductor) and Tc from a structure (Quinn & McQueen 2022, after CGCNN).

Each site is a node (occupancy-weighted element vectors, so partial occupancy is one node), joined to its
12 nearest periodic neighbours within 8 Å, whole shells kept (every neighbour tied with the 12th, so
symmetry-equivalent sites see equal neighbourhoods and the output does not depend on the site order);
edge lengths are expanded on Gaussians. Gated graph
convolutions (Xie & Grossman's form: a sigmoid gate times a softplus message, summed over neighbours,
with a residual) update the nodes; their mean over the cell feeds a classification branch and a Tc branch,
trained jointly. The model is a deep ensemble run as one network (:mod:`sc_core.models.ensemble`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from pymatgen.core import Structure
from torch import nn
from torch.nn import functional as F

from sc_core import data
from sc_core.elements import vectors_table
from sc_core.featurize.graph import CrystalGraph, crystal_graph, element_vectors
from sc_core.models.ensemble import (
    DualHead,
    EnsembleLinear,
    NetworkConfig,
)
from sc_core.models.graph_batch import (
    CompositionChannel,
    GraphBatch,
    GraphModel,
    gaussians,
    pool_cells,
    targets,
)


@dataclass(frozen=True)
class CrystalGraphConfig(NetworkConfig):
    """The crystal-graph ensemble: node width, convolutions, readout width and the edge expansion."""

    n_members: int = 3
    width: int = 32
    layers: int = 3
    out: int = 128  # width of the pooled cell vector the heads read
    n_gaussians: int = 41  # edge lengths 0-8 Å on Gaussians 0.2 Å apart
    epochs: int = 60
    batch_size: int = 64
    lr: float = 2e-3
    composition: bool = False  # embed the composition's Magpie descriptors beside the graph
    whole_shells: bool = True  # keep neighbours tied with the 12th: equivalent sites agree (sc_core.featurize.graph)


class GatedConv(nn.Module):
    """h_i ← softplus(h_i + norm(Σ_j σ(W_g z_ij) ⊙ softplus(W_m z_ij))), z_ij = [h_i, h_j, e_ij]; per member."""

    def __init__(self, members: int, width: int, edge_width: int):
        super().__init__()
        self.linear = EnsembleLinear(members, 2 * width + edge_width, 2 * width)

    def forward(self, h: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
        z = torch.cat([h[:, src], h[:, dst], edges.expand(len(h), -1, -1)], dim=2)
        gate, message = F.layer_norm(self.linear(z), (2 * h.shape[2],)).chunk(2, dim=2)
        summed = torch.zeros_like(h).index_add_(1, src, torch.sigmoid(gate) * F.softplus(message))
        return F.softplus(h + F.layer_norm(summed, (h.shape[2],)))


class GraphBackbone(nn.Module):
    """Node embedding, graph convolutions and a mean over the cell, optionally beside an embedding of the
    composition's Magpie descriptors: (members, n_crystals, out)."""

    def __init__(self, members: int, c: CrystalGraphConfig):
        super().__init__()
        self.n_gaussians = c.n_gaussians
        self.embed = EnsembleLinear(members, element_vectors().shape[1], c.width)
        self.convs = nn.ModuleList(GatedConv(members, c.width, c.n_gaussians) for _ in range(c.layers))
        self.composition = CompositionChannel(members, c.width) if c.composition else None
        self.out = EnsembleLinear(members, c.width * (2 if c.composition else 1), c.out)

    def node_states(self, batch: GraphBatch) -> torch.Tensor:
        """(members, n_nodes, width) node vectors after the convolutions."""
        edges = gaussians(batch.distance, self.n_gaussians)
        h = self.embed(batch.nodes)
        for conv in self.convs:
            h = conv(h, batch.src, batch.dst, edges)
        return h

    def readout(self, h: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        """(members, n_crystals, out) from node vectors: mean over each cell (joined by the embedded
        descriptors), then a linear layer."""
        return pool_cells(h, batch, self.composition, self.out)

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        return self.readout(self.node_states(batch), batch)


class CrystalGraphNet(GraphModel):
    """An ensemble of crystal-graph networks: classification and Tc branches trained jointly."""

    name = "crystal_graph"
    datasets = ("3dsc",)
    attribution_methods = ("grad_x_input",)

    config_class = CrystalGraphConfig
    config: CrystalGraphConfig
    net: DualHead[GraphBackbone]
    features = ("crystal graphs: 12 nearest neighbours within 8 Å and the rest of the 12th's shell, "
                "occupancy-weighted element vectors (sc_core.featurize.graph)")

    def network(self) -> DualHead[GraphBackbone]:
        c = self.config
        return DualHead(GraphBackbone(c.n_members, c), c.n_members, c.out, c.head_width)

    def graph(self, structure: Structure) -> CrystalGraph:
        return crystal_graph(structure, descriptors=self.config.composition, whole_shells=self.config.whole_shells)

    @classmethod
    def train_deployed(cls, seed: int = 0, progress: bool = False) -> tuple[CrystalGraphNet, dict]:
        """Every bundled 3DSC structure."""
        table = data.load_3dsc()
        model = cls(random_state=seed).fit(data.structures_3dsc(table["cif_name"]), tc=table["tc"].to_numpy(),
                                           progress=progress)
        return model, {"3dsc_structures": int(len(table)), "seed": seed}

    # -- training ------------------------------------------------------------------------------
    def fit(self, structures: list[Structure], tc: np.ndarray | None = None, labels: np.ndarray | None = None,
            progress: bool = False) -> CrystalGraphNet:
        """Train on structures and Tc in K (0 = not a superconductor); `labels` overrides ``tc > 0``.

        A tenth of the compositions is held out for early stopping (per member) and the temperature.
        """
        c = self.config
        y, t = targets(len(structures), tc, labels, c.tc_scale)
        self.train_graphs([self.graph(s) for s in structures], [s.composition for s in structures], y, t,
                          shuffle_seed=c.random_state, progress=progress)
        return self

    # -- inference -----------------------------------------------------------------------------
    def atom_contributions(self, structure: Structure, method: str | None = None) -> np.ndarray:
        """Per-site gradient × input of the final node vectors on the classification logit (ensemble mean).

        Positive: the site pushes the prediction towards a superconductor. ValueError beyond Lr.
        """
        if method not in (None, "grad_x_input"):
            raise ValueError(f"unknown attribution method {method!r}")
        return self.gradient_x_states(structure)

    def element_vectors(self, stage: str | None = None) -> pd.DataFrame:
        """Each pure element's embedded node vector (Z = 1-103), averaged over the ensemble."""
        with torch.inference_mode():
            return vectors_table(self.net.backbone.embed(torch.tensor(element_vectors()[1:])).mean(0).numpy())
