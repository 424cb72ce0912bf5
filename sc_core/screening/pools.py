"""Bundled candidate pools, pool names, shards, and the structures of a pool's rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pymatgen.core import Structure

from sc_core import data
from sc_core.io import InputError, quote
from sc_core.screening.tables import check_shard

POOLS = {
    "3dsc": "3DSC: 10,904 Materials Project structures matched to SuperCon entries",
    "s2s": "S2S: 1,685 Materials Project crystals of the S2SNet benchmark",
    "cod": "COD: inorganic compositions from the Crystallography Open Database (2009)",
}

STRUCTURE_POOLS = ("3dsc", "s2s")  # bundled pools with crystal structures; COD has compositions only


def has_structures(name: str | None) -> bool:
    """Whether the pool `name` has crystal structures, which structure models need: a bundled 3DSC or S2S pool,
    or an upload of structure files (a zip or a CIF/POSCAR, not a CSV of formulas); None: nothing uploaded yet."""
    if name is None:
        return False
    key = pool_name(name)
    return key in STRUCTURE_POOLS if key else not name.lower().endswith(".csv")


def pool_name(token: str) -> str | None:
    """The bundled pool `token` names, in any letter case (``S2S`` → ``s2s``), or None."""
    name = token.strip().lower()
    return name if name in POOLS else None


def load_pool(name: str) -> pd.DataFrame:
    """A bundled pool: id, formula, source, mp_id, structure_ref (3DSC cif name or S2S id; '' if none)."""
    key = pool_name(name)
    if key == "3dsc":
        table = data.load_3dsc()
        return pd.DataFrame({"id": table["id"], "formula": table["formula"], "source": "3dsc",
                             "mp_id": table["mp_id"], "structure_ref": table["cif_name"]})
    if key == "s2s":
        table = data.load_s2s()
        return pd.DataFrame({"id": table["id"], "formula": table["formula"], "source": "s2s", "mp_id": "",
                             "structure_ref": table["id"]})
    if key == "cod":
        table = data.load_cod()
        return pd.DataFrame({"id": table["id"], "formula": table["formula"], "source": "cod", "mp_id": "",
                             "structure_ref": ""})
    raise InputError(f"Unknown pool {quote(name)}; choose one of {', '.join(POOLS)}.")


def shard(pool: pd.DataFrame, index: int, count: int) -> pd.DataFrame:
    """Shard `index` (0-based) of `count` contiguous, balanced shards: together they partition the pool in order."""
    check_shard(index, count)
    return pool.iloc[np.array_split(np.arange(len(pool)), count)[index]]


def structures(pool: pd.DataFrame) -> list[Structure | None]:
    """Structures of a pool: read ones (a pool from :func:`sc_core.io.read_pool`), or bundled ones."""
    if "structure" in pool.columns:
        return pool["structure"].tolist()
    s2s = data.s2s_structures() if (pool["source"] == "s2s").any() else {}
    refs = [ref for source, ref in zip(pool["source"], pool["structure_ref"]) if source == "3dsc" and ref]
    dsc = dict(zip(refs, data.structures_3dsc(refs))) if refs else {}  # none: not even the parsed cache is read
    return [s2s.get(ref) if source == "s2s" else dsc.get(ref) if source == "3dsc" else None
            for source, ref in zip(pool["source"], pool["structure_ref"])]
