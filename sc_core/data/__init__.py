"""Loaders for the bundled ``data/`` folder: pandas DataFrames and pymatgen Structures.

Every file is checked against ``data/MANIFEST.json`` (sha256) the first time it is read.
Maintainers rebuild the folder with ``make data`` (the build step, the only code that reads the source datasets).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import tarfile
from collections.abc import Collection, Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import IO, cast

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Lattice, Structure

from sc_core import paths
from sc_core.elements import MAX_Z
from sc_core.io import InputError, parse_formula, quote, read_structure

# Magpie element properties bundled in data/elements.csv and used by the composition features.
ELEMENT_PROPERTIES = [
    "atomic_masses", "atomic_volume", "column", "row", "covalent_radius", "electronegativity",
    "electron_affinity", "T_melt", "T_boil", "density", "cohesive_energy", "magnetic_moment",
    "polarizability", "valence", "valence_s", "valence_p", "valence_d", "valence_f", "unfilled",
    "unfilled_d", "unfilled_f",
]

DATA_DIR = paths.folder("SC_DATA_DIR", "data")
CACHE_DIR = Path(os.environ.get("SC_CACHE_DIR", Path.home() / ".cache" / "sc_core"))
F_ROW_OFFSET = 3  # periodic-table grid: f rows drawn at rows 9 and 10 (periods 6 and 7), row 8 left empty
F_FIRST_COL = 4  # Ce and Th sit under group 4, right after La and Ac
PARSED_CACHE_MIN = 1000  # structures: above this, 3DSC CIFs are parsed once into CACHE_DIR
N_GARBAGE = 15_000  # COD garbage-in rows added to a composition training set


class DataIntegrityError(RuntimeError):
    """A bundled data file is missing or does not match its manifest hash."""


@lru_cache(maxsize=1)
def manifest() -> dict:
    """The manifest written by the build step (file hashes, row counts, overall data hash)."""
    path = DATA_DIR / "MANIFEST.json"
    if not path.exists():
        hint = paths.missing_hint(DATA_DIR, "SC_DATA_DIR") if not DATA_DIR.exists() else "run `make data` first"
        raise DataIntegrityError(f"{path} is missing: {hint}")
    return json.loads(path.read_text())


@cache
def data_path(name: str) -> Path:
    """Path of a bundled file, verified against the manifest once per process."""
    entry = manifest()["files"].get(name)
    path = DATA_DIR / name
    if entry is None or not path.exists():
        raise DataIntegrityError(f"bundled data file {name!r} is missing from {DATA_DIR}")
    if paths.sha256(path) != entry["sha256"]:
        raise DataIntegrityError(f"{path} does not match its sha256 in MANIFEST.json")
    return path


@cache
def _table(name: str) -> pd.DataFrame:
    return pd.read_csv(data_path(name), keep_default_na=False, na_values=[""])


def load_supercon() -> pd.DataFrame:
    """SuperCon compositions (Stanev 2018): id, name, formula, tc (0 = non-superconductor), comp_key, chemsys."""
    return _table("supercon.csv").copy()


def load_3dsc() -> pd.DataFrame:
    """3DSC_MP structures: id, cif_name, mp_id, group (SuperCon formula), tc, synth_doped, ..."""
    return _table("3dsc.csv").copy()


def load_s2s() -> pd.DataFrame:
    """S2S benchmark index: id, label (1 = superconductor), n_sites, formula, ... (no source ids)."""
    return _table("s2s.csv").copy()


def load_hosono(year: int = 2018, drop_unusable: bool = True) -> pd.DataFrame:
    """Hosono et al. external test list of `year` (2009 or 2018), with typos corrected."""
    df = _table("hosono.csv")
    df = df[df["list"] == year]
    if drop_unusable:
        df = df[df["usable"]]
    return df.reset_index(drop=True)


def load_cod(inorganic_only: bool = True) -> pd.DataFrame:
    """COD compositions (2009), unique by composition; `inorganic_only` drops the C+H entries."""
    df = _table("cod.csv.gz")
    if inorganic_only:
        df = df[~df["organic"]]
    return df.reset_index(drop=True)


def garbage_in(n: int, seed: int, exclude_keys: Collection[str] = frozenset()) -> pd.DataFrame:
    """`n` inorganic COD compositions, absent from SuperCon and the Hosono lists, as Tc = 0 rows.

    Konno et al.'s "garbage-in": presumed non-superconductors that teach a classifier what ordinary
    inorganic compounds look like. Rows whose comp_key is in `exclude_keys` are left out too.
    """
    cod = load_cod()
    cod = cod[~cod["in_supercon"] & ~cod["in_hosono"] & ~cod["comp_key"].isin(exclude_keys)]
    picked = cod.sample(n=min(n, len(cod)), random_state=seed)
    return picked.assign(tc=0.0).reset_index(drop=True)


def deployed_training_set(seed: int = 0) -> tuple[list[Composition], np.ndarray, dict]:
    """All SuperCon rows (minus overlaps with the Hosono 2018 list) plus COD garbage-in, with a description."""
    hosono_keys = set(load_hosono(2018)["comp_key"])
    table = load_supercon()
    table = table[~table["comp_key"].isin(hosono_keys)]
    garbage = garbage_in(N_GARBAGE, seed)
    comps = [parse_formula(f) for f in list(table["formula"]) + list(garbage["formula"])]
    tc = np.concatenate([table["tc"].to_numpy(), garbage["tc"].to_numpy()])
    described = {"supercon_rows": int(len(table)), "garbage_in_rows": int(len(garbage)), "seed": seed,
                 "excluded": "SuperCon rows whose composition is on the Hosono 2018 list"}
    return comps, tc, described


def load_elements() -> pd.DataFrame:
    """Element table indexed by Z: symbol, group, period, block, Mendeleev number, Magpie properties."""
    return _table("elements.csv").set_index("Z", drop=False)


@cache
def element_properties(names: tuple[str, ...] = tuple(ELEMENT_PROPERTIES)) -> np.ndarray:
    """(MAX_Z + 1, len(names)) property values by Z (row 0: zeros, no element). The one gap-filling rule: a value
    the table lacks is the property's median over the elements."""
    table = load_elements().reindex(range(1, MAX_Z + 1))[list(names)].to_numpy(dtype=float)
    out = np.zeros((MAX_Z + 1, len(names)))
    out[1:] = np.where(np.isnan(table), np.nanmedian(table, axis=0), table)
    out.setflags(write=False)
    return out


def periodic_table_grid() -> pd.DataFrame:
    """Cells of the 18-column periodic table for Z = 1..MAX_Z: columns symbol, Z, row, col (1-based).

    Rows 1-7 are the periods and columns the groups; La and Ac stay in group 3 of periods 6 and 7, and
    the f block (Ce-Lu, Th-Lr) is drawn as rows 9 and 10 from column 4, below an empty row 8.
    Derived from the group and period columns of the bundled element table.
    """
    table = load_elements().loc[lambda t: t["Z"] <= MAX_Z, ["symbol", "Z", "group", "period"]]
    f_block = table["group"].isna()
    first_f = table[f_block].groupby("period")["Z"].transform("min")
    row = table["period"].where(~f_block, table["period"] + F_ROW_OFFSET)
    col = table["group"].where(~f_block, table["Z"] - first_f + F_FIRST_COL)
    return pd.DataFrame({"symbol": table["symbol"], "Z": table["Z"], "row": row.astype(int),
                         "col": col.astype(int)}).reset_index(drop=True)


@lru_cache(maxsize=1)
def _3dsc_cifs() -> dict[str, bytes]:
    with tarfile.open(data_path("3dsc_cifs.tar.gz")) as tar:
        return {Path(m.name).name: cast(IO[bytes], tar.extractfile(m)).read() for m in tar.getmembers() if m.isfile()}


def structure_3dsc(cif_name: str) -> Structure:
    """The 3DSC structure stored under `cif_name` (partial occupancies kept)."""
    try:
        return read_structure(_3dsc_cifs()[cif_name], filename=cif_name)
    except KeyError:
        raise InputError(f"No bundled 3DSC structure is called {cif_name!r}.") from None


def structures_3dsc(cif_names: Iterable[str]) -> list[Structure]:
    """Many 3DSC structures at once. Parsing a CIF takes ~10 ms, so more than PARSED_CACHE_MIN of them are
    parsed once into a JSON cache (``SC_CACHE_DIR``, default ~/.cache/sc_core, keyed by the archive's
    sha256) that later calls read 40× faster; fewer are parsed directly."""
    names = list(cif_names)
    path = CACHE_DIR / f"3dsc-{manifest()['files']['3dsc_cifs.tar.gz']['sha256'][:16]}.jsonl.gz"
    if not path.exists() and len(names) <= PARSED_CACHE_MIN:
        return [structure_3dsc(name) for name in names]
    parsed = _read_parsed(path) if path.exists() else _write_parsed(path)
    return [parsed[name] if name in parsed else structure_3dsc(name) for name in names]


def _read_parsed(path: Path) -> dict[str, Structure]:
    with gzip.open(path, "rt") as fh:
        return {r["name"]: Structure.from_dict(r["structure"]) for r in map(json.loads, fh)}


def _write_parsed(path: Path) -> dict[str, Structure]:
    """Parse every bundled CIF and write the cache atomically (skipped where the cache folder is read-only)."""
    parsed = {name: structure_3dsc(name) for name in _3dsc_cifs()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.part")
        with gzip.open(partial, "wt") as fh:
            fh.writelines(json.dumps({"name": name, "structure": s.as_dict()}) + "\n" for name, s in parsed.items())
        partial.replace(path)
    except OSError:
        pass
    return parsed


@lru_cache(maxsize=1)
def space_groups_3dsc() -> dict[str, str]:
    """Hermann-Mauguin symbol of every bundled 3DSC structure, as written in its CIF (Materials Project)."""
    found = {name: _SPACE_GROUP.search(text) for name, text in _3dsc_cifs().items()}
    return {name: match.group(1).decode().strip("'\"") if match else "" for name, match in found.items()}


_SPACE_GROUP = re.compile(rb"^_symmetry_space_group_name_H-M\s+(.+?)\s*$", re.MULTILINE)


@lru_cache(maxsize=1)
def s2s_structures() -> dict[str, Structure]:
    """All S2S crystals by id."""
    with gzip.open(data_path("s2s.jsonl.gz"), "rt") as fh:
        records = [json.loads(line) for line in fh]
    return {r["id"]: Structure(Lattice(r["lattice"]), r["atomic_numbers"], r["frac_coords"]) for r in records}


def find_mp_id(mp_id: str) -> tuple[Structure, pd.Series]:
    """A bundled structure by Materials Project id (an undoped 3DSC entry when there is one)."""
    table = load_3dsc()
    hits = table[table["mp_id"].str.lower() == mp_id.strip().lower()]
    if hits.empty:
        raise InputError(f"{quote(mp_id.strip())} is not among the bundled 3DSC structures; upload its CIF instead.")
    row = hits.sort_values(["synth_doped", "id"]).iloc[0]
    return structure_3dsc(row["cif_name"]), row
