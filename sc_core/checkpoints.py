"""Checkpoint folders: weights as plain arrays (``weights.npz``, no pickles) plus a JSON card.

A checkpoint is ``checkpoints/<name>/`` holding ``weights.npz`` and ``card.json``. The card records
what the model was trained on (data hash, split), its metrics and the library versions, and the
sha256 of every weight file; :func:`load` refuses files whose hash differs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

import numpy as np

from sc_core import paths

CHECKPOINT_DIR = paths.folder("SC_CHECKPOINT_DIR", "checkpoints")
WEIGHTS = "weights.npz"
CARD = "card.json"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, altered, or was written by incompatible library versions."""


def _root(root: Path | None) -> Path:
    return Path(root) if root is not None else CHECKPOINT_DIR


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape the weights."""
    names = ["numpy", "scikit-learn", "torch", "pymatgen", "pandas"]
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save(name: str, arrays: dict[str, np.ndarray], card: dict, root: Path | None = None) -> Path:
    """Write ``weights.npz`` and ``card.json`` under ``root/name`` and return the folder."""
    folder = _root(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / WEIGHTS, **arrays)
    card = {
        **card,
        "name": name,
        "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": library_versions(),
        "files": {WEIGHTS: _sha256(folder / WEIGHTS)},
    }
    (folder / CARD).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return folder


def read_card(name: str, root: Path | None = None) -> dict:
    """The card of checkpoint `name`."""
    path = _root(root) / name / CARD
    if not path.exists():
        raise CheckpointError(f"no checkpoint {name!r} in {_root(root)}: train it with `python -m sc_core.train {name}`")
    return json.loads(path.read_text())


def update_card(name: str, root: Path | None = None, **fields) -> None:
    """Add or replace card fields that do not describe the weights (e.g. evaluation metrics)."""
    card = read_card(name, root)
    if {"files", "versions"} & set(fields):
        raise ValueError("the weight hashes and versions are written by save() only")
    (_root(root) / name / CARD).write_text(json.dumps({**card, **fields}, indent=2, sort_keys=True) + "\n")


def load(name: str, root: Path | None = None, shapes: dict[str, tuple[int, ...]] | None = None
         ) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and card of checkpoint `name`, after checking every file's sha256 against the card."""
    card = read_card(name, root)
    folder = _root(root) / name
    for filename, digest in card["files"].items():
        path = folder / filename
        if not path.exists() or _sha256(path) != digest:
            raise CheckpointError(f"{path} is missing or does not match the sha256 in its card")
    with np.load(folder / WEIGHTS, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    for key, shape in (shapes or {}).items():  # placeholder until the gate branch lands
        if key not in arrays or arrays[key].shape != shape:
            raise CheckpointError(f"{name}: array {key} is missing or has the wrong shape")
    return arrays, card


def exists(name: str, root: Path | None = None) -> bool:
    """Whether checkpoint `name` has a card."""
    return (_root(root) / name / CARD).exists()
