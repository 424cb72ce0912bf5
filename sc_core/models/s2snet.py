"""S2SNet (Liu et al. 2022): attention over the atoms of a crystal, masked-atom pretraining, class activation maps.

A site is the occupancy-weighted sum of learned element embeddings (partial occupancy), plus its position:
the paper's distance to the centroid of the cell on Gaussians, and/or the lengths of its bonds to its k
nearest periodic neighbours as a bias inside the attention. Pre-norm attention layers let every site attend
to itself and its neighbours; Set2Set reads the cell out; the six lattice parameters are added; a
classification branch and a Tc branch follow. Beyond the paper, the composition's Magpie descriptors can be
embedded and added to the cell vector (``composition``), and neighbour lists can keep whole shells
(``whole_shells``) so that symmetry-equivalent sites see equal neighbourhoods. The centroid distance and the
lattice parameters change with the choice of cell; ``position="bonds"`` with ``lattice_inputs="invariants"``
(volume per atom and density instead of a, b, c, α, β, γ) and whole shells read only what the crystal fixes.
Pretraining predicts the element of masked sites (15%, at least 2 per crystal). The model is a deep ensemble run
as one network (:mod:`sc_core.models.ensemble`).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import torch
from pymatgen.core import Element, Structure
from torch import nn
from torch.nn import functional as F

from sc_core import checkpoints, data
from sc_core.elements import MAX_Z, vectors_table
from sc_core.featurize.graph import CrystalGraph, crystal_graph, element_vectors
from sc_core.models.ensemble import (
    DualHead,
    EnsembleLinear,
    NetworkConfig,
    seeded,
    train_members,
    validation_mask,
)
from sc_core.models.graph_batch import (
    CompositionChannel,
    GraphBatch,
    GraphModel,
    GraphObjective,
    collate,
    gaussians,
    segment_softmax,
    targets,
)

ARCHITECTURE = ("n_members", "width", "layers", "k_neighbors", "lattice", "descriptors", "n_gaussians")
CELL_SCALE = torch.tensor([10.0, 10.0, 10.0, 90.0, 90.0, 90.0])  # Å and degrees to order one
INVARIANT_SCALE = torch.tensor([20.0, 5.0])  # Å³ per atom and g/cm³ to order one
AMU_PER_A3_IN_G_PER_CM3 = 1.66053907
PRETRAINED = "s2snet_pretrained"  # the committed masked-atom pretraining checkpoint
# the deployed recipe (fine-tuned from PRETRAINED), chosen on S2S validation data (benchmarks/validation.py); the
# pretrained layers were trained on 12-neighbour graphs and fine-tune well on whole shells
DEPLOYED: dict[str, Any] = {"composition": True, "whole_shells": True}


@dataclass(frozen=True)
class S2SNetConfig(NetworkConfig):
    """S2SNet: site width, attention layers, neighbours, position encodings, pretraining and fine-tuning."""

    n_members: int = 3
    width: int = 64
    layers: int = 3
    k_neighbors: int = 12
    position: str = "both"  # "centroid", "bonds" or "both"
    lattice: bool = True
    lattice_inputs: str = "parameters"  # "parameters" (a, b, c, α, β, γ) or "invariants" (volume/atom, density)
    descriptors: bool = False  # element embeddings start from element descriptors
    composition: bool = False  # embed the composition's Magpie descriptors into the cell vector
    whole_shells: bool = False
    n_gaussians: int = 64
    set2set_steps: int = 3
    mask_fraction: float = 0.15  # masked-atom pretraining: share of each crystal's sites masked
    min_masked: int = 2  # ... and at least this many
    pretrain_epochs: int = 0  # > 0: pretrain on the training structures first
    pretrained: str | None = None  # start from this pretraining checkpoint
    freeze: bool = False  # keep the pretrained embedding and attention layers fixed
    epochs: int = 60
    batch_size: int = 64
    lr: float = 2e-3


def positions(c: S2SNetConfig) -> set[str]:
    """The position encodings a config reads: "centroid", "bonds" or both."""
    return {"centroid", "bonds"} if c.position == "both" else {c.position}


class SiteEmbedding(nn.Module):
    """Occupancy-weighted element embeddings plus the centroid distance; masked sites get a learned vector.

    With `descriptors`, an element's embedding is a learned vector plus a learned projection of its
    descriptors (group, period, block, six properties), so elements rare in training start from chemistry.
    """

    pretrained: torch.Tensor
    descriptors: torch.Tensor | None

    def __init__(self, members: int, width: int, centroid: bool, descriptors: bool, n_gaussians: int):
        super().__init__()
        self.n_gaussians = n_gaussians
        self.elements = nn.Parameter(torch.randn(members, MAX_Z + 1, width) * width**-0.5)
        self.register_buffer("pretrained", torch.zeros(members, MAX_Z + 1, width))  # kept for the embeddings page
        self.register_buffer("descriptors", torch.tensor(element_vectors()) if descriptors else None)
        self.project = EnsembleLinear(members, element_vectors().shape[1], width) if descriptors else None
        self.mask = nn.Parameter(torch.zeros(members, 1, width))
        self.position = EnsembleLinear(members, n_gaussians, width) if centroid else None

    def table(self) -> torch.Tensor:
        """(members, MAX_Z + 1, width) embedding of every element."""
        if self.project is None or self.descriptors is None:  # both or neither
            return self.elements
        return self.elements + self.project(self.descriptors.expand(len(self.elements), -1, -1))

    def forward(self, batch: GraphBatch, masked: torch.Tensor | None = None) -> torch.Tensor:
        occupancy, centroid = batch.nodes[:, : MAX_Z + 1], batch.nodes[:, MAX_Z + 1]
        h = torch.matmul(occupancy, self.table())  # (members, n_nodes, width)
        if masked is not None:
            h = torch.where(masked[:, None], self.mask, h)
        if self.position is not None:
            h = h + self.position(gaussians(centroid, self.n_gaussians))
        return h


class NeighbourAttention(nn.Module):
    """Each site attends to itself and its neighbours; bond lengths bias the scores (pre-norm, residual, MLP)."""

    def __init__(self, members: int, width: int, bonds: bool, n_gaussians: int):
        super().__init__()
        self.qkv = EnsembleLinear(members, width, 3 * width)
        self.bond_bias = EnsembleLinear(members, n_gaussians, 1) if bonds else None
        self.proj = EnsembleLinear(members, width, width)
        self.mlp = nn.Sequential(EnsembleLinear(members, width, 2 * width), nn.GELU(),
                                 EnsembleLinear(members, 2 * width, width))

    def forward(self, h: torch.Tensor, src: torch.Tensor, dst: torch.Tensor,
                bonds: torch.Tensor | None) -> torch.Tensor:
        q, k, v = self.qkv(F.layer_norm(h, h.shape[-1:])).chunk(3, dim=2)
        scores = (q[:, src] * k[:, dst]).sum(-1) / math.sqrt(q.shape[-1])  # (members, edges)
        if self.bond_bias is not None:
            scores = scores + self.bond_bias(bonds).squeeze(-1)
        weights = segment_softmax(scores, src, h.shape[1])
        h = h + self.proj(torch.zeros_like(h).index_add_(1, src, weights[..., None] * v[:, dst]))
        return h + self.mlp(F.layer_norm(h, h.shape[-1:]))


class Set2Set(nn.Module):
    """Vinyals et al.'s order-invariant readout, `steps` rounds of an LSTM query attending over each cell's sites."""

    def __init__(self, members: int, width: int, steps: int = 3):
        super().__init__()
        self.steps = steps
        self.gates = EnsembleLinear(members, 3 * width, 4 * width)  # input [q*, h] → i, f, g, o

    def forward(self, h: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        members, _, width = h.shape
        state = cell = h.new_zeros(members, batch.n, width)
        q_star = h.new_zeros(members, batch.n, 2 * width)
        for _ in range(self.steps):
            i, f, g, o = self.gates(torch.cat([q_star, state], dim=2)).chunk(4, dim=2)
            cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
            state = torch.sigmoid(o) * torch.tanh(cell)
            attention = segment_softmax((h * state[:, batch.crystal]).sum(-1), batch.crystal, batch.n)
            read = h.new_zeros(members, batch.n, width).index_add_(1, batch.crystal, attention[..., None] * h)
            q_star = torch.cat([state, read], dim=2)
        return q_star


class S2SBackbone(nn.Module):
    """Site embedding, neighbour attention layers, Set2Set readout plus lattice parameters: (members, n, 2·width)."""

    def __init__(self, members: int, c: S2SNetConfig):
        super().__init__()
        self.n_gaussians = c.n_gaussians
        self.embed = SiteEmbedding(members, c.width, "centroid" in positions(c), c.descriptors, c.n_gaussians)
        self.bonds = "bonds" in positions(c)
        self.layers = nn.ModuleList(NeighbourAttention(members, c.width, self.bonds, c.n_gaussians)
                                    for _ in range(c.layers))
        self.readout = Set2Set(members, c.width, c.set2set_steps)
        self.invariant_cell = c.lattice_inputs == "invariants"
        if c.lattice_inputs not in ("parameters", "invariants"):
            raise ValueError(f"unknown lattice inputs {c.lattice_inputs!r}")
        self.lattice = EnsembleLinear(members, 2 if self.invariant_cell else 6, 2 * c.width) if c.lattice else None
        self.composition = CompositionChannel(members, 2 * c.width) if c.composition else None

    def site_states(self, batch: GraphBatch, masked: torch.Tensor | None = None) -> torch.Tensor:
        """(members, n_nodes, width) site vectors after the attention layers."""
        bonds = gaussians(batch.distance, self.n_gaussians) if self.bonds else None
        h = self.embed(batch, masked)
        for layer in self.layers:
            h = layer(h, batch.src, batch.dst, bonds)
        return F.layer_norm(h, h.shape[-1:])

    def cell_vector(self, q_star: torch.Tensor, batch: GraphBatch) -> torch.Tensor:
        """The Set2Set output plus the projected lattice inputs and the embedded composition (when used)."""
        if self.lattice is not None:
            cell = cell_invariants(batch) / INVARIANT_SCALE if self.invariant_cell else batch.cell / CELL_SCALE
            q_star = q_star + self.lattice(cell)
        return q_star + self.composition(batch) if self.composition is not None else q_star

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        return self.cell_vector(self.readout(self.site_states(batch), batch), batch)


def cell_invariants(batch: GraphBatch) -> torch.Tensor:
    """(n, 2) volume per atom (Å³) and density (g/cm³) of each cell: the same for any cell of one crystal. Atoms
    and mass count partial occupancies (the species columns of the node features)."""
    a, b, c = batch.cell[:, :3].double().unbind(1)
    cosines = torch.cos(torch.deg2rad(batch.cell[:, 3:].double()))
    alpha, beta, gamma = cosines.unbind(1)
    volume = a * b * c * torch.sqrt(1 - (cosines**2).sum(1) + 2 * alpha * beta * gamma)
    occupancy = batch.nodes[:, : MAX_Z + 1].double()
    per_crystal = torch.zeros(batch.n, 2, dtype=torch.float64).index_add_(
        0, batch.crystal, torch.stack([occupancy.sum(1), occupancy @ atomic_masses()], dim=1))
    atoms, mass = per_crystal.unbind(1)
    return torch.stack([volume / atoms, AMU_PER_A3_IN_G_PER_CM3 * mass / volume], dim=1).float()


@functools.cache
def atomic_masses() -> torch.Tensor:
    """(MAX_Z + 1,) float64 atomic mass in amu of each element, by Z (0 for index 0)."""
    return torch.tensor([0.0] + [float(Element.from_Z(z).atomic_mass) for z in range(1, MAX_Z + 1)],
                        dtype=torch.float64)


def mask_sites(batch: GraphBatch, generator: torch.Generator, fraction: float, minimum: int
               ) -> torch.Tensor:
    """Boolean (n_nodes,): `fraction` of each crystal's sites, at least `minimum` (all of a crystal with fewer),
    at random."""
    counts = torch.bincount(batch.crystal, minlength=batch.n)
    wanted = torch.minimum(counts, torch.clamp(torch.ceil(counts * fraction).long(), min=minimum))
    order = torch.argsort(batch.crystal * 2.0 + torch.rand(len(batch.crystal), generator=generator))
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order)) - (torch.cumsum(counts, 0) - counts)[batch.crystal[order]]
    return rank < wanted[batch.crystal]


class S2SNet(GraphModel):
    """S2SNet ensemble: optional masked-atom pretraining, then classification and Tc branches."""

    name = "s2snet"
    datasets = ("s2s", "3dsc")
    # the pretraining corpus holds 3DSC structures, so on 3DSC the model trains from scratch
    protocol_params = {"3dsc": {"pretrained": None}}
    attribution_methods = ("cam", "grad_x_input")

    config_class = S2SNetConfig
    config: S2SNetConfig
    net: DualHead[S2SBackbone]
    element_head: EnsembleLinear  # the masked-atom head, set by pretrain or start_from

    def __init__(self, config: S2SNetConfig | None = None, **overrides):
        super().__init__(config, **overrides)
        self.pretrain_history: list[torch.Tensor] = []
        self.masked_val_accuracy = float("nan")
        self.is_pretrained = False

    def network(self) -> DualHead[S2SBackbone]:
        c = self.config
        return DualHead(S2SBackbone(c.n_members, c), c.n_members, 2 * c.width, c.head_width)

    def graph(self, structure: Structure) -> CrystalGraph:
        c = self.config
        return crystal_graph(structure, k=c.k_neighbors, nodes="occupancy", descriptors=c.composition,
                             whole_shells=c.whole_shells)

    features = ("sites: occupancy-weighted element embeddings, nearest neighbours and their whole shells "
                "(sc_core.featurize.graph); cell: Set2Set, lattice parameters and the embedded Magpie descriptors")

    def card_notes(self) -> str:
        return (f"{super().card_notes()}; pretraining: checkpoints/{self.config.pretrained}, masked-atom accuracy "
                f"{self.masked_val_accuracy:.3f} on its held-out tenth")

    # -- the deployed recipe -----------------------------------------------------------------------
    @classmethod
    def train_deployed(cls, seed: int = 0, progress: bool = False) -> tuple[S2SNet, dict]:
        """Masked-atom pretraining (:meth:`pretrain_deployed`), then classification on the S2S labels and Tc on
        3DSC, trained jointly from the pretrained layers."""
        cls.pretrain_deployed(seed, progress=progress)
        s2s, dsc = data.load_s2s(), data.load_3dsc()
        structures = [data.s2s_structures()[i] for i in s2s["id"]] + data.structures_3dsc(dsc["cif_name"])
        # S2S superconductors have no Tc: NaN marks "superconductor, Tc unknown"
        tc = np.concatenate([np.where(s2s["label"].to_numpy() == 1, np.nan, 0.0), dsc["tc"].to_numpy()])
        model = cls(random_state=seed, pretrained=PRETRAINED, **DEPLOYED).fit(structures, tc=tc, progress=progress)
        return model, {"s2s_crystals": int(len(s2s)), "3dsc_structures": int(len(dsc)), "seed": seed}

    @classmethod
    def pretrain_deployed(cls, seed: int = 0, epochs: int = 30, progress: bool = False) -> S2SNet:
        """Masked-atom pretraining on :func:`pretraining_corpus` → ``checkpoints/s2snet_pretrained``."""
        corpus = data.structures_3dsc(pretraining_corpus())
        model = cls(pretrain_epochs=epochs, random_state=seed).pretrain(corpus, progress=progress)
        model.save_pretrained({"version": f"{PRETRAINED}-{time.strftime('%Y%m%d')}",
                               "data_hash": data.manifest()["data_hash"],
                               "training_data": {"3dsc_structures": len(corpus), "seed": seed,
                                                 "excluded": "3DSC structures whose reduced formula is in S2S"},
                               "split": "a tenth of the compositions held out for early stopping and the "
                                        "masked-atom accuracy"}, PRETRAINED)
        return model

    # -- pretraining -----------------------------------------------------------------------------
    def _mask(self, batch: GraphBatch, generator: torch.Generator) -> torch.Tensor:
        return mask_sites(batch, generator, self.config.mask_fraction, self.config.min_masked)

    def pretrain(self, structures: list[Structure], progress: bool = False) -> S2SNet:
        """Masked-atom modelling on unlabelled structures: predict the majority element of masked sites."""
        c = self.config
        graphs = [self.graph(s) for s in structures]
        val = validation_mask([s.composition for s in structures], c)
        generator = torch.Generator().manual_seed(c.random_state)
        val_batch = collate([graphs[i] for i in np.flatnonzero(val)])
        val_masked = self._mask(val_batch, torch.Generator().manual_seed(0))
        objective = GraphObjective(graphs, np.flatnonzero(~val), c.batch_size, np.random.default_rng(c.random_state),
                                   lambda batch, _: self._masked_loss(batch, self._mask(batch, generator)),
                                   lambda: self._masked_loss(val_batch, val_masked))
        with seeded(c.random_state):
            self.net = self.network()
            self.element_head = EnsembleLinear(c.n_members, c.width, MAX_Z + 1)
            pretraining = self._pretraining()
            self.pretrain_history = train_members(pretraining, list(pretraining.parameters()), objective, c,
                                                  epochs=c.pretrain_epochs, desc=f"{self.name} pretraining",
                                                  progress=progress)
        self.net.backbone.embed.pretrained.copy_(self.net.backbone.embed.table().detach())
        self.masked_val_accuracy = self._masked_accuracy(val_batch, val_masked)
        self.is_pretrained = True
        return self

    def save_pretrained(self, card: dict, name: str) -> None:
        """Write the pretrained backbone and element head (before any fine-tuning) to ``checkpoints/<name>``."""
        arrays = {k: v.numpy() for k, v in self._pretraining().state_dict().items()}
        checkpoints.save(name, arrays, {**card, "params": self.params, "model": f"{self.name} (pretrained)",
                                        "masked_val_accuracy": self.masked_val_accuracy})

    def start_from(self, name: str) -> S2SNet:
        """Take the backbone and element head of pretrained checkpoint `name` (hash-checked); its architecture
        parameters must match this model's, and it must have been pretrained with every position encoding this
        model reads (one it does not read is dropped: bonds only from a pretraining on bonds and centroid)."""
        c = self.config
        theirs = S2SNetConfig(**checkpoints.read_card(name)["params"])
        differ = [k for k in ARCHITECTURE if getattr(theirs, k) != getattr(c, k)]
        if not positions(c) <= positions(theirs):
            differ.append("position")
        if differ:
            raise ValueError(f"pretrained checkpoint {name} differs in {', '.join(differ)}")
        self.net = self.network()  # fresh heads, on the caller's seeded stream
        self.element_head = EnsembleLinear(c.n_members, c.width, MAX_Z + 1)
        module = self._pretraining()
        # the composition channel is not pretrained, nor the lattice layer (pretraining reads sites only): an
        # invariant lattice input starts fresh
        fresh = (".composition.",) + ((".lattice.",) if c.lattice_inputs == "invariants" else ())
        shapes = {k: tuple(v.shape) for k, v in module.state_dict().items() if not any(f in k for f in fresh)}
        arrays, card = checkpoints.load(name, shapes=shapes)
        module.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items() if k in shapes}, strict=False)
        self.masked_val_accuracy, self.is_pretrained = card["masked_val_accuracy"], True
        return self

    def _pretraining(self) -> nn.Module:
        return _Pretraining(self.net.backbone, self.element_head, self.config.n_members)

    def _masked_loss(self, batch: GraphBatch, masked: torch.Tensor) -> torch.Tensor:
        logits = self.element_head(self.net.backbone.site_states(batch, masked)[:, masked])
        target = batch.nodes[masked, : MAX_Z + 1].argmax(1)
        return F.cross_entropy(logits.transpose(1, 2), target.expand(len(logits), -1), reduction="none").mean(1)

    def masked_accuracy(self, structures: list[Structure], seed: int = 0) -> float:
        """Share of masked sites whose majority element the ensemble (mean logits) recovers."""
        batch = collate([self.graph(s) for s in structures])
        return self._masked_accuracy(batch, self._mask(batch, torch.Generator().manual_seed(seed)))

    def _masked_accuracy(self, batch: GraphBatch, masked: torch.Tensor) -> float:
        self.net.eval()
        with torch.no_grad():
            logits = self.element_head(self.net.backbone.site_states(batch, masked)[:, masked]).mean(0)
        return float((logits.argmax(1) == batch.nodes[masked, : MAX_Z + 1].argmax(1)).float().mean())

    # -- fine-tuning -----------------------------------------------------------------------------
    def fit(self, structures: list[Structure], tc: np.ndarray | None = None, labels: np.ndarray | None = None,
            progress: bool = False, pretrain_on: list[Structure] | None = None) -> S2SNet:
        """Train on structures with Tc in K (0: not a superconductor; NaN: a superconductor of unknown Tc) and/or
        labels (1 = superconductor), which override the labels read from Tc.

        Starts from the ``pretrained`` checkpoint when one is named; otherwise, with ``pretrain_epochs`` > 0,
        first pretrains on `pretrain_on` (default: the same structures, whose labels are not used) unless
        :meth:`pretrain` ran already. With ``freeze``, pretrained embedding and attention layers stay fixed.
        """
        c = self.config
        with seeded(c.random_state):
            if c.pretrained and not self.is_pretrained:
                self.start_from(c.pretrained)
        if c.pretrain_epochs and not self.is_pretrained:
            self.pretrain(pretrain_on if pretrain_on is not None else structures, progress)
        y, t = targets(len(structures), tc, labels, c.tc_scale)
        frozen = (self.net.backbone.embed, self.net.backbone.layers) if c.freeze and self.is_pretrained else ()
        self.train_graphs([self.graph(s) for s in structures], [s.composition for s in structures], y, t,
                          shuffle_seed=c.random_state + 1, fresh=not self.is_pretrained, frozen=frozen,
                          progress=progress)
        return self

    def atom_contributions(self, structure: Structure, method: str | None = None) -> np.ndarray:
        """Per-site contribution to the classification logit (ensemble mean); positive: towards a superconductor.

        ``cam``: the paper's class activation map at the readout. Set2Set reads a cell as an attention-weighted
        sum of its sites, so site i contributes a_i h_i · ∂logit/∂read (exact for a linear head, the paper's
        case; the head's first-order response otherwise). ``grad_x_input``: gradient × input of the final
        site vectors through the whole readout.
        """
        batch = collate([self.graph(structure)])
        backbone = self.net.backbone
        with torch.no_grad():
            h = backbone.site_states(batch)
        if method == "grad_x_input":
            h.requires_grad_(True)
            self.net.cls_branch(backbone.cell_vector(backbone.readout(h, batch), batch)).sum().backward()
            return (cast(torch.Tensor, h.grad) * h).sum(-1).mean(0).detach().numpy()
        if method not in (None, "cam"):
            raise ValueError(f"unknown attribution method {method!r}")
        width = h.shape[2]
        with torch.no_grad():
            q_star = backbone.readout(h, batch)
        state, read = q_star[..., :width], q_star[..., width:].clone().requires_grad_(True)
        self.net.cls_branch(backbone.cell_vector(torch.cat([state, read], dim=2), batch)).sum().backward()
        attention = segment_softmax((h * state[:, batch.crystal]).sum(-1), batch.crystal, batch.n)
        return (attention[..., None] * h * read.grad[:, batch.crystal]).sum(-1).mean(0).numpy()

    @property
    def embedding_stages(self) -> tuple[str, ...]:
        return ("fine-tuned", "pretrained") if self.config.pretrain_epochs or self.config.pretrained else ()

    def element_vectors(self, stage: str | None = "fine-tuned") -> pd.DataFrame:
        """The learned element embeddings (Z = 1-103), averaged over the ensemble, after fine-tuning or (``stage=
        "pretrained"``) after masked-atom pretraining; ValueError if the model was not pretrained."""
        embed = self.net.backbone.embed
        if stage == "pretrained" and not self.embedding_stages:
            raise ValueError("this S2SNet was trained without pretraining")
        return vectors_table((embed.pretrained if stage == "pretrained" else embed.table()).detach()[:, 1:]
                             .mean(0).numpy())


class _Pretraining(nn.Module):
    """The backbone and the element head, trained together by masked-atom modelling."""

    def __init__(self, backbone: S2SBackbone, head: EnsembleLinear, members: int):
        super().__init__()
        self.backbone, self.head, self.members = backbone, head, members


def pretraining_corpus() -> list[str]:
    """CIF names of the 3DSC structures whose reduced formula is not among the S2S crystals: S2S evaluations
    that start from the pretrained checkpoint never saw a test crystal, even unlabelled."""
    s2s, dsc = data.load_s2s(), data.load_3dsc()
    return dsc.loc[~dsc["reduced_formula"].isin(set(s2s["reduced_formula"])), "cif_name"].tolist()
