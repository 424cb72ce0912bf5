"""Heads on CHGNet's frozen, Materials-Project-pretrained crystal encoder (Deng et al. 2023).

Each site is CHGNet's atom feature vector (:mod:`sc_core.featurize.chgnet`: partial occupancy as a virtual
crystal); a per-site layer, the mean over the cell and, beside it, the embedded Magpie descriptors of the
composition feed a classification branch and a Tc branch. The encoder stays fixed, so the only inputs are
site features that CHGNet computes from neighbours within its cutoffs: the model gives one answer per crystal
however the cell is written. The heads are a deep ensemble run as one network (:mod:`sc_core.models.ensemble`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
import torch
from pymatgen.core import Structure
from torch import nn
from torch.nn import functional as F

from sc_core import data
from sc_core.elements import MAX_Z, vectors_table
from sc_core.featurize import chgnet
from sc_core.featurize.composition import magpie_features, to_batch
from sc_core.featurize.graph import CrystalGraph
from sc_core.io import InputError
from sc_core.models.ensemble import DualHead, EnsembleLinear, NetworkConfig
from sc_core.models.graph_batch import CompositionChannel, GraphBatch, GraphModel, pool_cells, targets

NO_EDGES = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class ChgnetHeadsConfig(NetworkConfig):
    """The heads on the frozen encoder: per-site width, readout width, dropout and the schedule."""

    n_members: int = 5
    width: int = 64
    out: int = 128
    dropout: float = 0.1
    epochs: int = 80
    batch_size: int = 128
    lr: float = 2e-3
    composition: bool = True  # embed the composition's Magpie descriptors beside the pooled sites


class SiteReadout(nn.Module):
    """Per-site layer on CHGNet's features, mean over the cell, joined by the embedded composition:
    (members, n_crystals, out)."""

    def __init__(self, members: int, c: ChgnetHeadsConfig):
        super().__init__()
        self.site = EnsembleLinear(members, chgnet.WIDTH, c.width)
        self.dropout = nn.Dropout(c.dropout)
        self.composition = CompositionChannel(members, c.width) if c.composition else None
        self.out = EnsembleLinear(members, c.width * (2 if c.composition else 1), c.out)

    def node_states(self, batch: GraphBatch) -> torch.Tensor:
        """(members, n_sites, width) per-site vectors."""
        return F.silu(self.site(F.layer_norm(batch.nodes, batch.nodes.shape[-1:])))

    def readout(self, h: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        return pool_cells(self.dropout(h), batch, self.composition, self.out)

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        return self.readout(self.node_states(batch), batch)


class ChgnetHeads(GraphModel):
    """An ensemble of classification and Tc heads on CHGNet's frozen site features."""

    name = "chgnet"
    datasets = ("s2s", "3dsc")
    attribution_methods = ("grad_x_input",)
    features = ("sites: CHGNet 0.3.0 atom features (MPtrj-pretrained, frozen; partial occupancy as a virtual "
                "crystal; sc_core.featurize.chgnet); cell: their mean and the embedded Magpie descriptors")

    config_class = ChgnetHeadsConfig
    config: ChgnetHeadsConfig
    net: DualHead[SiteReadout]

    def __init__(self, config: ChgnetHeadsConfig | None = None, **overrides):
        super().__init__(config, **overrides)
        self.n_unread = 0  # training structures CHGNet could not read (elements beyond Pu), left out

    def card_notes(self) -> str:
        return f"{super().card_notes()}; {self.n_unread} training structures left out (elements beyond Pu)"

    def network(self) -> DualHead[SiteReadout]:
        c = self.config
        return DualHead(SiteReadout(c.n_members, c), c.n_members, c.out, c.head_width)

    def graphs(self, structures: list[Structure], progress: bool = False) -> list[CrystalGraph | InputError]:
        """One node per site (its CHGNet features), no edges (CHGNet has read the neighbours), the composition's
        Magpie descriptors when used; an InputError for a structure CHGNet cannot read."""
        features = chgnet.cached_site_features(structures, progress=progress)
        magpie = (magpie_features(to_batch([s.composition for s in structures])) if self.config.composition
                  else np.zeros((len(structures), 0), np.float32))
        return [f if isinstance(f, InputError) else
                CrystalGraph(nodes=f, src=NO_EDGES, dst=NO_EDGES, distance=np.zeros(0, np.float32),
                             cell=np.zeros(6, np.float32), descriptors=d)
                for f, d in zip(features, magpie, strict=True)]

    def graph(self, structure: Structure) -> CrystalGraph:
        found = self.graphs([structure])[0]
        if isinstance(found, InputError):
            raise found
        return found

    @classmethod
    def train_deployed(cls, seed: int = 0, progress: bool = False) -> tuple[ChgnetHeads, dict]:
        """Classification on the S2S labels and Tc on 3DSC, trained jointly (as s2snet)."""
        s2s, dsc = data.load_s2s(), data.load_3dsc()
        structures = [data.s2s_structures()[i] for i in s2s["id"]] + data.structures_3dsc(dsc["cif_name"])
        tc = np.concatenate([np.where(s2s["label"].to_numpy() == 1, np.nan, 0.0), dsc["tc"].to_numpy()])
        model = cls(random_state=seed).fit(structures, tc=tc, progress=progress)
        return model, {"s2s_crystals": int(len(s2s)), "3dsc_structures": int(len(dsc)), "seed": seed,
                       "encoder": f"CHGNet {chgnet.CHECKPOINT}, sha256 {chgnet.CHECKPOINT_SHA256}"}

    # -- training ------------------------------------------------------------------------------
    def fit(self, structures: list[Structure], tc: np.ndarray | None = None, labels: np.ndarray | None = None,
            progress: bool = False) -> ChgnetHeads:
        """Train on structures and Tc in K (0: not a superconductor; NaN: a superconductor of unknown Tc);
        `labels` overrides ``tc > 0``. A tenth of the compositions is held out for early stopping and the
        temperature."""
        c = self.config
        found = self.graphs(structures, progress=progress)
        read = np.array([not isinstance(g, InputError) for g in found])  # structures CHGNet reads (not beyond Pu)
        graphs = [cast(CrystalGraph, g) for g, ok in zip(found, read, strict=True) if ok]
        structures = [s for s, ok in zip(structures, read, strict=True) if ok]
        tc = None if tc is None else np.asarray(tc, dtype=float)[read]
        labels = None if labels is None else np.asarray(labels)[read]
        self.n_unread = int((~read).sum())
        y, t = targets(len(graphs), tc, labels, c.tc_scale)
        self.train_graphs(graphs, [s.composition for s in structures], y, t, shuffle_seed=c.random_state,
                          progress=progress)
        return self

    # -- inference -----------------------------------------------------------------------------
    def atom_contributions(self, structure: Structure, method: str | None = None) -> np.ndarray:
        """Per-site gradient × input of the per-site vectors on the classification logit (ensemble mean);
        positive pushes towards a superconductor."""
        if method not in (None, "grad_x_input"):
            raise ValueError(f"unknown attribution method {method!r}")
        return self.gradient_x_states(structure)

    def element_vectors(self, stage: str | None = None) -> pd.DataFrame:
        """CHGNet's own embedding of each element it covers (H-Pu): the pretrained input vectors."""
        weight = chgnet.encoder().atom_embedding.embedding.weight.detach().numpy()
        return vectors_table(np.pad(weight, ((0, MAX_Z - len(weight)), (0, 0)), constant_values=np.nan)).dropna()
