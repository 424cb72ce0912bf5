"""Where the bundled folders live: ``data/``, ``checkpoints/`` and ``benchmarks/results/`` of the repository.

In a source checkout (``pip install -e .``, or run from the repository) they are found beside the package. An
installed package (``pip install .``) does not carry them: set ``SC_HOME`` to a checkout of the repository, or
each folder on its own with ``SC_DATA_DIR``, ``SC_CHECKPOINT_DIR`` and ``SC_RESULTS_DIR``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def folder(variable: str, relative: str) -> Path:
    """The folder named by environment `variable`, else `relative` under ``SC_HOME`` (default: the repository)."""
    if os.environ.get(variable):
        return Path(os.environ[variable])
    return Path(os.environ.get("SC_HOME") or REPOSITORY) / relative


def missing_hint(path: Path, variable: str) -> str:
    """What to do when a bundled folder is not where it is looked for."""
    return (f"{path} does not exist. If sc_core was installed with `pip install .`, point SC_HOME at a checkout of "
            f"the repository (or {variable} at the folder itself).")


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (the checksum of the data manifest and the checkpoint cards)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
