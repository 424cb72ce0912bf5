"""Checkpoint folders: weights as plain arrays (``weights.npz``, no pickles) plus a JSON card.

A checkpoint is ``checkpoints/<name>/`` holding ``weights.npz`` and ``card.json``. The card records
what the model was trained on (data hash, split), its metrics and the library versions, and the
sha256 of every weight file; :func:`load` refuses a card that does not list the weights, files whose
hash differs, and (given the expected shapes) arrays that are missing or shaped differently. Weights written
by other numpy / scikit-learn / torch versions (major.minor) load with a warning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import re
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from io import BytesIO
from pathlib import Path
from typing import Any, cast

import numpy as np

from sc_core import paths

CHECKPOINT_DIR = paths.folder("SC_CHECKPOINT_DIR", "checkpoints")
WEIGHTS = "weights.npz"
CARD = "card.json"
CARD_KEYS = ("files", "versions")  # written by save(); load() needs both
READ_THREADS = 2  # the cores of the machine the project targets
CHECKED_VERSIONS = ("numpy", "scikit-learn", "torch", "lightgbm")  # libraries whose major.minor must match at load


class CheckpointError(RuntimeError):
    """A checkpoint is missing, altered, or was written by incompatible library versions."""


def _root(root: Path | None) -> Path:
    return Path(root) if root is not None else CHECKPOINT_DIR


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape the weights."""
    names = ["numpy", "scikit-learn", "torch", "lightgbm", "pymatgen", "pandas"]
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def save(name: str, arrays: dict[str, np.ndarray], card: dict, root: Path | None = None) -> Path:
    """Write ``weights.npz`` and ``card.json`` under ``root/name`` and return the folder."""
    folder = _root(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    # cast: numpy's stub cannot tell these keys from its allow_pickle keyword
    np.savez_compressed(folder / WEIGHTS, **cast(dict[str, Any], arrays))
    card = {
        **card,
        "name": name,
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": library_versions(),
        "files": {WEIGHTS: paths.sha256(folder / WEIGHTS)},
    }
    (folder / CARD).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return folder


def read_card(name: str, root: Path | None = None) -> dict:
    """The card of checkpoint `name`; CheckpointError if it is missing or not a JSON object."""
    path = _root(root) / name / CARD
    if not path.exists():
        raise CheckpointError(f"no checkpoint {name!r} in {_root(root)}: train it with "
                              f"`python -m sc_core.train {name}`")
    try:
        card = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); retrain with `sc train {name}`") from None
    if not isinstance(card, dict):
        raise CheckpointError(f"{path} is not a checkpoint card (a JSON object); retrain with `sc train {name}`")
    return card


def update_card(name: str, root: Path | None = None, **fields) -> None:
    """Add or replace card fields that do not describe the weights (e.g. evaluation metrics)."""
    card = read_card(name, root)
    if {"files", "versions"} & set(fields):
        raise ValueError("the weight hashes and versions are written by save() only")
    (_root(root) / name / CARD).write_text(json.dumps({**card, **fields}, indent=2, sort_keys=True) + "\n")


def load(name: str, root: Path | None = None,
         shapes: dict[str, tuple[int, ...]] | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and card of checkpoint `name`, after checking every file's sha256 against the card.

    `shapes`: the expected shape of each named array; a missing array or another shape is a CheckpointError.
    Library versions other than the card's (major.minor of CHECKED_VERSIONS) give a warning.
    """
    card = read_card(name, root)
    folder = _root(root) / name
    weights = _verified_files(card, folder, name)[WEIGHTS]
    try:
        arrays = _read_arrays(weights)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{folder / WEIGHTS} cannot be read ({exc}); retrain with `sc train {name}`") from None
    for key, shape in (shapes or {}).items():
        if key not in arrays:
            raise CheckpointError(f"checkpoint {name!r} has no array {key!r}; retrain with `sc train {name}`")
        if arrays[key].shape != tuple(shape):
            raise CheckpointError(f"checkpoint {name!r}: array {key!r} has shape {arrays[key].shape}, the model "
                                  f"expects {tuple(shape)}; retrain with `sc train {name}`")
    _warn_on_other_versions(card["versions"], name)
    return arrays, card


def _read_arrays(weights: bytes) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` bytes `weights`, in file order, decompressed on READ_THREADS threads (zlib
    releases the GIL), the largest arrays dealt out first."""
    with zipfile.ZipFile(BytesIO(weights)) as archive:
        sizes = {info.filename.removesuffix(".npy"): info.file_size for info in archive.infolist()}
    by_size = sorted(sizes, key=sizes.__getitem__, reverse=True)

    def read(keys: list[str]) -> dict[str, np.ndarray]:
        with np.load(BytesIO(weights), allow_pickle=False) as npz:
            return {key: npz[key] for key in keys}

    with ThreadPoolExecutor(READ_THREADS) as pool:
        parts = list(pool.map(read, [by_size[i::READ_THREADS] for i in range(READ_THREADS)]))
    arrays = {key: value for part in parts for key, value in part.items()}
    return {key: arrays[key] for key in sizes}


def _verified_files(card: dict, folder: Path, name: str) -> dict[str, bytes]:
    """The bytes of every file the card lists, read once (the bytes hashed are the bytes loaded); CheckpointError
    unless the card has CARD_KEYS, lists WEIGHTS, and every listed file matches its sha256."""
    retrain = f"retrain with `sc train {name}`"
    missing = [key for key in CARD_KEYS if not isinstance(card.get(key), dict)]
    if missing:
        raise CheckpointError(f"the card of checkpoint {name!r} lacks {', '.join(missing)}; {retrain}")
    if WEIGHTS not in card["files"]:
        raise CheckpointError(f"the card of checkpoint {name!r} does not list {WEIGHTS} with its sha256, so the "
                              f"weights cannot be verified; {retrain}")
    blobs = {}
    for filename, digest in card["files"].items():
        path = folder / str(filename)
        blob = path.read_bytes() if Path(str(filename)).name == filename and path.is_file() else None
        if blob is None or hashlib.sha256(blob).hexdigest() != digest:
            raise CheckpointError(f"{path} is missing or does not match the sha256 in its card")
        blobs[filename] = blob
    return blobs


def _warn_on_other_versions(recorded: dict, name: str) -> None:
    """warnings.warn if a library of CHECKED_VERSIONS differs in major.minor from the card's."""
    running = library_versions()
    differ = [f"{lib} {recorded[lib]} (running {running[lib]})" for lib in CHECKED_VERSIONS
              if lib in recorded and lib in running and _major_minor(recorded[lib]) != _major_minor(running[lib])]
    if differ:
        warnings.warn(f"checkpoint {name!r} was written with {', '.join(differ)}; its predictions may differ. "
                      f"Retrain with `sc train {name}`, or install the recorded versions.", stacklevel=3)


def _major_minor(version: object) -> str:
    """'2.4' for '2.4.6' or '2.4.0+cpu'."""
    match = re.match(r"\d+\.\d+", str(version))
    return match.group() if match else str(version)


def exists(name: str, root: Path | None = None) -> bool:
    """Whether checkpoint `name` has a card."""
    return (_root(root) / name / CARD).exists()
