"""Screening: batch prediction over candidate pools, filters, nearest known entries, shortlist export."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
from pymatgen.symmetry.groups import SpaceGroup
from scipy.spatial.distance import cdist

from sc_core import data, models
from sc_core.chemistry import chemical_system, family
from sc_core.featurize.composition import to_batch
from sc_core.io import MAX_FILE_BYTES, InputError, parse_formula, read_structure

POOLS = {
    "3dsc": "3DSC: 10,904 Materials Project structures matched to SuperCon entries",
    "s2s": "S2S: 1,685 Materials Project crystals of the S2SNet benchmark",
    "cod": "COD: inorganic compositions from the Crystallography Open Database (2009)",
}
MAX_UPLOAD_ROWS = 200_000
Progress = Callable[[int, int], None]


def load_pool(name: str) -> pd.DataFrame:
    """A bundled pool: id, formula, source, mp_id, structure_ref (3DSC cif name or S2S id; '' if none)."""
    if name == "3dsc":
        table = data.load_3dsc()
        return pd.DataFrame({"id": table["id"], "formula": table["formula"], "source": "3dsc",
                             "mp_id": table["mp_id"], "structure_ref": table["cif_name"]})
    if name == "s2s":
        table = data.load_s2s()
        return pd.DataFrame({"id": table["id"], "formula": table["formula"], "source": "s2s", "mp_id": "",
                             "structure_ref": table["id"]})
    if name == "cod":
        table = data.load_cod()
        return pd.DataFrame({"id": table["id"], "formula": table["formula"], "source": "cod", "mp_id": "",
                             "structure_ref": ""})
    raise InputError(f"Unknown pool {name!r}; choose one of {', '.join(POOLS)}.")


def read_pool(filename: str, content: bytes) -> pd.DataFrame:
    """An uploaded pool: a CSV with a 'formula' column (optional 'id'), a zip of CIFs, or one CIF/POSCAR."""
    if len(content) > 10 * MAX_FILE_BYTES:
        raise InputError(f"The upload is {len(content) / 2**20:.1f} MB; the limit is {10 * MAX_FILE_BYTES // 2**20} MB.")
    lower = filename.lower()
    if lower.endswith(".csv"):
        try:
            table = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise InputError(f"Could not read {filename} as a CSV table: {exc}") from exc
        if "formula" not in table.columns:
            raise InputError(f"{filename} needs a 'formula' column; it has {', '.join(table.columns) or 'none'}.")
        if len(table) > MAX_UPLOAD_ROWS:
            raise InputError(f"{filename} has {len(table):,} rows; the limit is {MAX_UPLOAD_ROWS:,}.")
        ids = table["id"] if "id" in table.columns else [f"row-{i}" for i in range(len(table))]
        return pd.DataFrame({"id": ids, "formula": table["formula"], "source": filename, "mp_id": "",
                             "structure_ref": ""})
    if lower.endswith(".zip"):
        try:
            archive = zipfile.ZipFile(io.BytesIO(content))
        except zipfile.BadZipFile as exc:
            raise InputError(f"{filename} is not a valid zip archive.") from exc
        names = [n for n in archive.namelist() if n.lower().endswith((".cif", ".vasp")) or "POSCAR" in n]
        if not names:
            raise InputError(f"{filename} contains no .cif, .vasp or POSCAR files.")
        files = [(n, archive.read(n)) for n in names]
    else:
        files = [(filename, content)]
    rows = []
    for name, blob in files:
        row = {"id": name, "formula": "", "source": filename, "mp_id": "", "structure_ref": "", "structure": None,
               "error": ""}
        try:
            row["structure"] = read_structure(blob, filename=name)
            row["formula"] = row["structure"].composition.formula.replace(" ", "")
        except InputError as exc:
            row["error"] = str(exc)
        rows.append(row)
    return pd.DataFrame(rows)


def _structures(pool: pd.DataFrame) -> list[Structure | None]:
    """Structures of a pool: uploaded ones, or bundled ones resolved from structure_ref."""
    if "structure" in pool.columns:
        return pool["structure"].tolist()
    s2s = data.s2s_structures() if (pool["source"] == "s2s").any() else {}
    refs = [ref for source, ref in zip(pool["source"], pool["structure_ref"]) if source == "3dsc" and ref]
    dsc = dict(zip(refs, data.structures_3dsc(refs)))
    return [s2s.get(ref) if source == "s2s" else dsc.get(ref) if source == "3dsc" else None
            for source, ref in zip(pool["source"], pool["structure_ref"])]


def space_group(structure: Structure | None) -> str:
    """Hermann-Mauguin symbol found by spglib (tolerance 0.1 Å); '' without a structure or a solution."""
    if structure is None:
        return ""
    try:
        return SpacegroupAnalyzer(structure, symprec=0.1).get_space_group_symbol()
    except (TypeError, ValueError):  # spglib finds no symmetry for a malformed cell
        return ""


@lru_cache(maxsize=None)
def crystal_system(symbol: str) -> str:
    """Crystal system of a Hermann-Mauguin symbol ('cubic', 'trigonal', ...); '' if unknown or empty."""
    try:
        return SpaceGroup(symbol).crystal_system if symbol else ""
    except ValueError:
        return ""


@lru_cache(maxsize=None)
def _s2s_space_group(ref: str) -> str:
    return space_group(data.s2s_structures()[ref])


def _space_groups(pool: pd.DataFrame) -> list[str]:
    """Space group of each row with a structure: as written in the bundled 3DSC CIFs, else by symmetry search."""
    if "structure" in pool.columns:
        return [space_group(s) for s in pool["structure"]]
    bundled = data.space_groups_3dsc() if (pool["source"] == "3dsc").any() else {}
    return [bundled.get(ref, "") if source == "3dsc" else _s2s_space_group(ref) if source == "s2s" else ""
            for source, ref in zip(pool["source"], pool["structure_ref"])]


KNOWN_TOLERANCE = 0.005  # a SuperCon entry with the same elements and every atomic fraction this close is a match


@lru_cache(maxsize=1)
def _supercon_by_system() -> dict[str, tuple[list[str], np.ndarray, np.ndarray]]:
    """SuperCon by element set: (elements, atomic fractions (n, k), Tc (n,))."""
    out = {}
    for system, part in data.load_supercon().groupby("chemsys"):
        elements = system.split("-")
        comps = [Composition(f).fractional_composition for f in part["formula"]]
        out[system] = (elements, np.array([[c[e] for e in elements] for c in comps]), part["tc"].to_numpy())
    return out


def supercon_match(comp: Composition) -> float | None:
    """Tc of the SuperCon entry closest to `comp` (mean over ties) among those with the same elements and every
    atomic fraction within KNOWN_TOLERANCE, or None if there is none (so MgB2 matches SuperCon's B0.67Mg0.33)."""
    entry = _supercon_by_system().get(chemical_system(comp))
    if entry is None:
        return None
    elements, fractions, tc = entry
    frac = comp.fractional_composition
    gap = np.abs(fractions - np.array([frac[e] for e in elements])).max(axis=1)
    if gap.min() > KNOWN_TOLERANCE:
        return None
    return float(tc[gap <= gap.min() + 1e-9].mean())


def _describe(pool: pd.DataFrame) -> pd.DataFrame:
    """Chemistry columns for each pool row: space group, family, elements, SuperCon match."""
    rows = []
    for formula in pool["formula"]:
        try:
            comp = parse_formula(formula)
        except InputError:
            rows.append({"family": "", "n_elements": 0, "elements": "", "contains_O": False, "in_supercon": False,
                         "supercon_tc_K": np.nan})
            continue
        known = supercon_match(comp)
        symbols = sorted(el.symbol for el in comp)
        rows.append({"family": family(comp), "n_elements": len(symbols), "elements": " ".join(symbols),
                     "contains_O": "O" in symbols, "in_supercon": known is not None,
                     "supercon_tc_K": np.nan if known is None else known})
    groups = _space_groups(pool)
    return pd.DataFrame(rows, index=pool.index).assign(space_group=groups,
                                                       crystal_system=[crystal_system(g) for g in groups])


def screen_batch(pool: pd.DataFrame, model_names: list[str], progress: Progress | None = None) -> pd.DataFrame:
    """Predict every pool row with each model; p_sc is the consensus, the mean over models that scored the row.

    A pure function of its arguments (models are loaded by name in the calling process), so a distributed
    engine can run it on any part of a pool: see :func:`screen`.
    """
    if not model_names:
        raise InputError("Choose at least one model.")
    pool = pool.reset_index(drop=True)
    table = pool[["id", "formula", "mp_id"]].copy()
    table = table.join(_describe(pool))
    errors = pool["error"].fillna("").to_numpy() if "error" in pool.columns else np.full(len(pool), "")
    done, total = 0, len(pool) * len(model_names)

    def step(n: int, _: int) -> None:
        if progress:
            progress(done + n, total)

    tc_from = None
    for name in model_names:
        model = models.load(name)
        inputs = _structures(pool) if model.kind == "structure" else list(pool["formula"])
        inputs = [x if x is not None else "" for x in inputs]
        pred = model.predict(inputs, progress=step)
        table[f"p_sc_{name}"] = pred["p_sc"].to_numpy()
        if tc_from is None and pred["tc_K"].notna().any():
            tc_from = name
            table["tc_K"], table["tc_std_K"] = pred["tc_K"].to_numpy(), pred["tc_std_K"].to_numpy()
        errors = np.where((errors == "") & pred["p_sc"].isna().to_numpy(), pred["error"].to_numpy(), errors)
        done += len(pool)
    table["p_sc"] = table[[f"p_sc_{n}" for n in model_names]].mean(axis=1, skipna=True)
    if tc_from is None:
        table["tc_K"] = table["tc_std_K"] = np.nan
    table["error"] = np.where(table["p_sc"].isna(), errors, "")  # a row any model scored is not an error
    return table


def screen(pool: pd.DataFrame, model_names: list[str], progress: Progress | None = None,
           backend: str = "local", n_tasks: int = 8) -> pd.DataFrame:
    """:func:`screen_batch` over a whole pool, in this process or split into `n_tasks` Ray tasks.

    ``backend="ray"`` joins a running Ray cluster (``RAY_ADDRESS``) or starts a local one; Ray is an
    optional dependency (``pip install ray``). Row order is kept either way.
    """
    if backend == "local":
        return screen_batch(pool, model_names, progress)
    if backend != "ray":
        raise InputError(f"Unknown backend {backend!r}; choose local or ray.")
    try:
        import ray
    except ImportError:
        raise InputError("The ray backend needs Ray: pip install ray") from None
    ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False)
    task = ray.remote(screen_batch)
    parts = [pool.iloc[rows] for rows in np.array_split(np.arange(len(pool)), min(n_tasks, max(len(pool), 1)))]
    futures = [task.remote(part, model_names) for part in parts]
    tables = []
    for i, future in enumerate(futures):
        tables.append(ray.get(future))
        if progress:
            progress(sum(map(len, parts[: i + 1])) * len(model_names), len(pool) * len(model_names))
    return pd.concat(tables, ignore_index=True)


def shard(pool: pd.DataFrame, index: int, count: int) -> pd.DataFrame:
    """Shard `index` (0-based) of `count` contiguous, balanced shards: together they partition the pool in order."""
    if count < 1 or not 0 <= index < count:
        raise InputError(f"A shard is i/N with 0 ≤ i < N; got {index}/{count}.")
    return pool.iloc[np.array_split(np.arange(len(pool)), count)[index]]


SHORTLIST_FIRST = ["id", "formula", "mp_id", "space_group", "crystal_system", "p_sc"]


def annotate(shortlist: pd.DataFrame) -> pd.DataFrame:
    """The shortlist with the nearest other known superconductor of each row, columns in reading order.

    Kept for shortlists, not whole pools: it compares every row with every SuperCon superconductor.
    """
    nearest = nearest_superconductors(shortlist["formula"].tolist())
    out = shortlist.assign(**{c: nearest[c].to_numpy() for c in nearest})
    first = [*SHORTLIST_FIRST, *[c for c in out if c.startswith("p_sc_")], "tc_K", "tc_std_K", "family",
             "in_supercon", "supercon_tc_K", *nearest.columns]
    return out[first + [c for c in out if c not in first and c != "error"] + ["error"]]


@dataclass(frozen=True)
class Filters:
    """Shortlist criteria; None or empty means no constraint."""

    min_p: float = 0.0
    tc_min: float | None = None
    tc_max: float | None = None
    include_elements: tuple[str, ...] = ()
    exclude_elements: tuple[str, ...] = ()
    n_elements: tuple[int, int] | None = None
    exclude_families: tuple[str, ...] = ()
    known: str = "any"  # "any" | "known" | "unknown" (in SuperCon or not)
    space_groups: tuple[str, ...] = ()  # keep only these (rows with a structure)
    crystal_systems: tuple[str, ...] = ()  # keep only these (rows with a structure)


def apply_filters(table: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Rows meeting every criterion, most likely superconductors first."""
    keep = table["p_sc"].fillna(-1) >= filters.min_p
    if filters.tc_min is not None:
        keep &= table["tc_K"] >= filters.tc_min
    if filters.tc_max is not None:
        keep &= table["tc_K"] <= filters.tc_max
    element_sets = table["elements"].str.split()
    for symbol in filters.include_elements:
        keep &= element_sets.map(lambda s, x=symbol: x in s)
    for symbol in filters.exclude_elements:
        keep &= ~element_sets.map(lambda s, x=symbol: x in s)
    if filters.n_elements is not None:
        keep &= table["n_elements"].between(*filters.n_elements)
    if filters.exclude_families:
        keep &= ~table["family"].isin(filters.exclude_families)
    if filters.known != "any":
        keep &= table["in_supercon"] == (filters.known == "known")
    if filters.space_groups:
        keep &= table["space_group"].isin(filters.space_groups)
    if filters.crystal_systems:
        keep &= table["crystal_system"].isin(filters.crystal_systems)
    return table[keep].sort_values("p_sc", ascending=False, kind="stable")


def export(table: pd.DataFrame, fmt: str, model_names: list[str]) -> bytes:
    """The shortlist as CSV, JSON or XLSX; every row carries the model versions and the export date."""
    versions = ";".join(f"{n}={models.load(n).version}" for n in model_names)
    stamped = table.assign(models=versions, exported=dt.date.today().isoformat())
    if fmt == "csv":
        return stamped.to_csv(index=False).encode()
    if fmt == "json":
        payload = {"models": {n: models.load(n).version for n in model_names}, "exported": dt.date.today().isoformat(),
                   "candidates": json.loads(stamped.to_json(orient="records"))}
        return json.dumps(payload, indent=1).encode()
    if fmt == "xlsx":
        buffer = io.BytesIO()
        stamped.to_excel(buffer, index=False, sheet_name="candidates")
        return buffer.getvalue()
    raise ValueError(f"unknown export format {fmt!r}")


@lru_cache(maxsize=1)
def _supercon_fractions() -> tuple[pd.DataFrame, np.ndarray]:
    table = data.load_supercon()
    return table, to_batch([Composition(f) for f in table["formula"]]).fraction_matrix()


def _distances(comps: list[Composition | None], rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """(len(comps), n) half L1 distances between atomic fractions and SuperCon `rows` (NaN for None)."""
    _, fractions = _supercon_fractions()
    query = to_batch([c or Composition() for c in comps]).fraction_matrix()
    out = 0.5 * cdist(query, fractions[rows], metric="cityblock")
    out[[c is None for c in comps]] = np.nan
    return out


def nearest_known(comp: Composition, k: int = 5) -> pd.DataFrame:
    """The `k` SuperCon entries closest in composition (half the L1 distance between atomic fractions)."""
    table, _ = _supercon_fractions()
    distance = _distances([comp])[0]
    idx = np.argsort(distance, kind="stable")[:k]
    return pd.DataFrame({"formula": table["formula"].to_numpy()[idx], "tc": table["tc"].to_numpy()[idx],
                         "distance": distance[idx]})


def nearest_superconductors(formulas: list[str], chunk: int = 512) -> pd.DataFrame:
    """For each formula, the closest other SuperCon superconductor: nearest_sc, nearest_sc_tc_K, nearest_sc_distance.

    Distance as in :func:`nearest_known`; the material's own composition (distance 0) is skipped, so a known
    superconductor gets its closest relative. Unparsable formulas get empty cells.
    """
    table, _ = _supercon_fractions()
    superconductors = np.flatnonzero(table["tc"].to_numpy() > 0)
    comps = []
    for formula in formulas:
        try:
            comps.append(parse_formula(formula))
        except InputError:
            comps.append(None)
    names, tcs, gaps = [], [], []
    for start in range(0, len(comps), chunk):
        distance = _distances(comps[start : start + chunk], superconductors)
        distance[distance < 1e-9] = np.inf
        best = np.argmin(np.nan_to_num(distance, nan=np.inf), axis=1)
        found = np.isfinite(distance[np.arange(len(best)), best])
        hit = table.iloc[superconductors[best]]
        names += np.where(found, hit["formula"].to_numpy(), "").tolist()
        tcs += np.where(found, hit["tc"].to_numpy(), np.nan).tolist()
        gaps += np.where(found, distance[np.arange(len(best)), best], np.nan).tolist()
    return pd.DataFrame({"nearest_sc": names, "nearest_sc_tc_K": tcs, "nearest_sc_distance": gaps})
