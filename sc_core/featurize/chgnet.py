"""CHGNet's pretrained crystal encoder (Deng et al., Nat. Mach. Intell. 2023), frozen: per-site feature vectors.

The weights are those shipped in the ``chgnet`` wheel (version 0.3.0, trained on MPtrj: about 1.5 million
structures of 146k Materials Project materials; modified BSD licence). They are read with
``torch.load(..., weights_only=True)`` after their sha256 is checked against :data:`CHECKPOINT_SHA256`.

Partial occupancy is read as a virtual crystal: a site's input vector is the occupancy-weighted sum of its
species' CHGNet embeddings, and the graph (neighbours within CHGNet's 6 Å and 3 Å cutoffs) is that of the sites,
whatever their species. The rest is CHGNet's message passing, unchanged; each site gets the atom features
before and after the last convolution (2 × 64 numbers). :func:`cached_site_features` keeps them on disk for
the bundled training sets (CHGNet reads about 17 3DSC structures a second on one thread).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import torch
from pymatgen.core import Structure
from tqdm import tqdm

from sc_core.data import CACHE_DIR
from sc_core.featurize.graph import occupancy_matrix
from sc_core.io import InputError

if TYPE_CHECKING:
    from chgnet.model import CHGNet
    from chgnet.model.model import BatchedGraph

CHECKPOINT = "0.3.0"
CHECKPOINT_FILE = "pretrained/0.3.0/chgnet_0.3.0_e29f68s314m37.pth.tar"
CHECKPOINT_SHA256 = "d14ab7c0f093efe64b60a7bcd540bca10e74fb7f46c86108a079af60524659d1"
MAX_Z = 94  # CHGNet embeds H to Pu
WIDTH = 128  # per site: atom features before and after the last convolution
STORE_MIN = 200  # structures: a call that computes at least this many new ones writes them to the disk cache


def checkpoint_path() -> Path:
    import chgnet

    return Path(chgnet.__file__).parent / CHECKPOINT_FILE


@functools.cache
def encoder() -> CHGNet:
    """The frozen CHGNet network, loaded without unpickling code and hash-checked."""
    from chgnet.model import CHGNet

    path = checkpoint_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != CHECKPOINT_SHA256:
        raise RuntimeError(f"CHGNet checkpoint {path} has sha256 {digest}, expected {CHECKPOINT_SHA256}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    with contextlib.redirect_stdout(io.StringIO()):  # CHGNet prints its parameter count
        model = CHGNet.from_dict(state["model"], mlp_out_bias=False, version=CHECKPOINT)
    model.graph_converter.set_isolated_atom_response("ignore")  # an atom > 6 Å from all others keeps its own vector
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def _ordered(structure: Structure) -> Structure:
    """The sites with one species each (the first), for CHGNet's graph builder, which reads only positions."""
    species = [next(iter(site.species)) for site in structure]
    return Structure(structure.lattice, species, structure.frac_coords)


def _occupancies(structure: Structure) -> np.ndarray:
    """(n_sites, MAX_Z) occupancy of each species (column Z − 1); InputError beyond Pu."""
    occupancy = occupancy_matrix(structure)
    if occupancy[:, MAX_Z + 1:].any():
        raise InputError(f"CHGNet covers H to Pu (Z ≤ {MAX_Z}); this structure holds a heavier element.")
    return occupancy[:, 1: MAX_Z + 1]


@torch.no_grad()
def site_features(structures: list[Structure], batch_size: int = 16) -> list[np.ndarray | InputError]:
    """(n_sites, WIDTH) float32 CHGNet atom features of each structure's sites, or the InputError that says why
    CHGNet cannot read it (an element beyond Pu)."""
    from chgnet.model.model import BatchedGraph

    model = encoder()
    prepared = [_prepare(model, s) for s in structures]
    out: list[np.ndarray | InputError] = [p if isinstance(p, InputError) else np.zeros(0) for p in prepared]
    good = [i for i, p in enumerate(prepared) if not isinstance(p, InputError)]
    for start in range(0, len(good), batch_size):
        rows = good[start: start + batch_size]
        graphs, occupancies = zip(*[cast(tuple, prepared[i]) for i in rows], strict=True)
        with warnings.catch_warnings():  # CHGNet builds the cell volumes from tensors that track gradients
            warnings.simplefilter("ignore", UserWarning)
            batch = BatchedGraph.from_graphs(list(graphs), bond_basis_expansion=model.bond_basis_expansion,
                                             angle_basis_expansion=model.angle_basis_expansion)
        inputs = torch.from_numpy(np.concatenate(occupancies)) @ model.atom_embedding.embedding.weight
        before, after = _message_passing(model, batch, inputs)
        features = torch.cat([before, after], dim=1).split([len(o) for o in occupancies])
        for i, f in zip(rows, features, strict=True):
            out[i] = f.numpy()
    return out


def _prepare(model: CHGNet, structure: Structure) -> tuple[object, np.ndarray] | InputError:
    """CHGNet's graph of the sites and their occupancies, or why there is none."""
    try:
        occupancy = _occupancies(structure)
        return model.graph_converter(_ordered(structure)), occupancy
    except InputError as exc:
        return exc
    except (ValueError, RuntimeError) as exc:
        return InputError(f"CHGNet cannot build this crystal's graph: {exc}")


def _message_passing(model: CHGNet, g: BatchedGraph, atoms: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """CHGNet's convolutions from the given atom input vectors: the atom features before the last atom
    convolution and after it (layer-normed, as CHGNet reads them out)."""
    bonds = model.bond_embedding(g.bond_bases_ag)
    weights_ag, weights_bg = model.bond_weights_ag(g.bond_bases_ag), model.bond_weights_bg(g.bond_bases_bg)
    angles = model.angle_embedding(g.angle_bases) if len(g.angle_bases) else None
    for atom_layer, bond_layer, angle_layer in zip(model.atom_conv_layers[:-1], model.bond_conv_layers,
                                                   model.angle_layers, strict=False):
        atoms = atom_layer(atom_feas=atoms, bond_feas=bonds, bond_weights=weights_ag,
                           atom_graph=g.batched_atom_graph, directed2undirected=g.directed2undirected)
        if angles is not None and bond_layer is not None:
            bonds = bond_layer(atom_feas=atoms, bond_feas=bonds, bond_weights=weights_bg, angle_feas=angles,
                               bond_graph=g.batched_bond_graph)
            if angle_layer is not None:
                angles = angle_layer(atom_feas=atoms, bond_feas=bonds, angle_feas=angles,
                                     bond_graph=g.batched_bond_graph)
    last = model.atom_conv_layers[-1](atom_feas=atoms, bond_feas=bonds, bond_weights=weights_ag,
                                      atom_graph=g.batched_atom_graph, directed2undirected=g.directed2undirected)
    return atoms, model.readout_norm(last) if model.readout_norm is not None else last


def structure_key(structure: Structure) -> str:
    """A digest of what CHGNet reads: the lattice, the fractional positions and each site's species."""
    digest = hashlib.sha256(structure.lattice.matrix.astype(np.float64).tobytes())
    digest.update(structure.frac_coords.astype(np.float64).tobytes())
    digest.update(";".join(site.species_string for site in structure).encode())
    return digest.hexdigest()


def _store_dir() -> Path:
    return CACHE_DIR / f"chgnet-{CHECKPOINT}-{CHECKPOINT_SHA256[:12]}"


@functools.cache
def _stored() -> dict[str, np.ndarray]:
    """Every feature array of the disk cache, read once per process (plain arrays, no pickles)."""
    found: dict[str, np.ndarray] = {}
    for shard in sorted(_store_dir().glob("*.npz")):
        with np.load(shard, allow_pickle=False) as arrays:
            found.update({key: arrays[key] for key in arrays.files})
    return found


def cached_site_features(structures: list[Structure], progress: bool = False) -> list[np.ndarray | InputError]:
    """:func:`site_features`, read from the disk cache (``SC_CACHE_DIR``) where there; a call that computes
    STORE_MIN or more new structures adds them to it as one shard (skipped where the folder is read-only)."""
    keys = [structure_key(s) for s in structures]
    known = _stored()
    todo = sorted({key: i for i, key in enumerate(keys) if key not in known}.values())
    fresh: dict[str, np.ndarray | InputError] = {}
    with tqdm(total=len(todo), desc="CHGNet features", unit="structure", disable=not progress, leave=False) as bar:
        for start in range(0, len(todo), 256):
            rows = todo[start: start + 256]
            fresh.update(zip([keys[i] for i in rows], site_features([structures[i] for i in rows]), strict=True))
            bar.update(len(rows))
    arrays = {key: f for key, f in fresh.items() if isinstance(f, np.ndarray)}
    if len(arrays) >= STORE_MIN:
        try:
            _store_dir().mkdir(parents=True, exist_ok=True)
            partial = _store_dir() / f"{uuid.uuid4().hex}.part.npz"
            np.savez(partial, allow_pickle=False, **arrays)
            partial.replace(partial.with_name(partial.name.replace(".part", "")))
        except OSError:
            pass
        known.update(arrays)  # a few structures (the app's) are not kept: the process does not grow with use
    return [fresh[key] if key in fresh else known[key] for key in keys]

