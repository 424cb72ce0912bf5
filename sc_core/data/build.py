"""Build the committed ``data/`` folder from the raw source folder (its path is given by ``make data``).

This is the only code that reads the source folder. It is deterministic: the same source gives
byte-identical outputs (gzip without timestamps, sorted rows, fixed ids), recorded in
``data/MANIFEST.json`` with row counts and sha256 sums.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pandas as pd
from pymatgen.core import Composition, Lattice, Structure

from sc_core import paths
from sc_core.chemistry import chemical_system, composition_key, family
from sc_core.data import ELEMENT_PROPERTIES
from sc_core.io import InputError, parse_formula

_ZERO_AMOUNT = re.compile(r"([A-Z][a-z]?)0(?![\d.])")

# Typos in the Hosono lists that hide overlaps with SuperCon (see the source README).
HOSONO_CORRECTIONS = {
    "Ca0.85La0.15FeAs21.98Sb0.02": "Ca0.85La0.15FeAs1.98Sb0.02",
    "Ca10Ir4As8Fe2As25": "Ca10(Ir4As8)(Fe2As2)5",
    "1T-TaS2": "TaS2",
}



def lenient_composition(name: str) -> tuple[Composition, str]:
    """Parse a database formula, dropping elements written with amount 0 (``La2Sr0CuO4``) and a
    trailing full stop (``Ga1Sr2Ca3Cu4O11.``).

    Returns the composition and a note (empty when nothing was changed). Raises InputError.
    """
    cleaned = _ZERO_AMOUNT.sub("", name.rstrip("."))
    note = f"read as {cleaned}" if cleaned != name else ""
    return parse_formula(cleaned), note


def _describe(comp: Composition) -> dict:
    return {
        "formula": comp.formula.replace(" ", ""),
        "reduced_formula": comp.reduced_formula,
        "comp_key": composition_key(comp),
        "chemsys": chemical_system(comp),
        "n_elements": len(comp),
        "family": family(comp),
    }


def build_supercon(source: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SuperCon (Stanev 2018 subset): one row per parseable name; rejected names with reasons."""
    raw = pd.read_csv(source / "supercon" / "Supercon_data_by_2018_Stanev.csv")
    rows, rejected = [], []
    for i, (name, tc) in enumerate(zip(raw["name"], raw["Tc"])):
        try:
            comp, note = lenient_composition(name)
        except InputError as exc:
            rejected.append({"source_row": i, "name": name, "tc": tc, "reason": str(exc)})
            continue
        rows.append({"id": f"sc-{i:05d}", "name": name, "tc": float(tc), "note": note, **_describe(comp)})
    return pd.DataFrame(rows), pd.DataFrame(rejected)


def build_3dsc(source: Path, supercon_keys: set[str]) -> pd.DataFrame:
    """3DSC_MP structures: ids, Tc, group (the SuperCon formula) and the synthetic-doping flag."""
    raw = pd.read_csv(source / "3dsc_mp" / "3dsc_mp_index.csv")
    rows = []
    for i, r in enumerate(raw.itertuples(index=False)):
        comp, _ = lenient_composition(r.formula_sc)
        info = _describe(comp)
        rows.append({
            "id": f"3dsc-{i:05d}", "cif_name": r.cif_name, "mp_id": r.mp_id, "group": r.formula_sc,
            "tc": float(r.tc), "synth_doped": bool(r.synth_doped), "is_ordered": bool(r.is_ordered),
            "n_sites": int(r.n_sites), **info, "in_supercon": info["comp_key"] in supercon_keys,
        })
    return pd.DataFrame(rows)


def build_s2s(source: Path) -> tuple[pd.DataFrame, list[dict]]:
    """S2S benchmark crystals. ``mol_index`` is dropped: it is a source id that leaks the label."""
    records, rows = [], []
    with gzip.open(source / "s2s" / "s2s.jsonl.gz", "rt") as fh:
        for line in fh:
            rec = json.loads(line)
            structure = Structure(Lattice(rec["lattice"]), rec["atomic_numbers"], rec["frac_coords"])
            sid = f"s2s-{rec['index']:04d}"
            records.append({"id": sid, "label": rec["label"], "lattice": rec["lattice"],
                            "atomic_numbers": rec["atomic_numbers"], "frac_coords": rec["frac_coords"]})
            rows.append({"id": sid, "label": int(rec["label"]), "n_sites": len(structure),
                         "volume_per_atom": structure.volume / len(structure),
                         **_describe(structure.composition)})
    return pd.DataFrame(rows), records


def build_hosono(source: Path, supercon_keys: set[str]) -> pd.DataFrame:
    """Hosono et al. external test lists (2009 and 2018), typos corrected, overlaps flagged."""
    rows = []
    for year in (2009, 2018):
        raw = pd.read_csv(source / "hosono_test" / f"hosono_{year}.csv", skipinitialspace=True)
        raw.columns = [c.strip() for c in raw.columns]
        for i, (matter, tc) in enumerate(zip(raw["matter"].str.strip(), raw["Tc"])):
            corrected = HOSONO_CORRECTIONS.get(matter, matter)
            row = {"id": f"hosono{year}-{i:03d}", "list": year, "matter": matter, "formula_used": corrected,
                   "tc": float(tc), "usable": True, "reason": ""}
            try:
                comp = parse_formula(corrected)
            except InputError as exc:
                rows.append({**row, "usable": False, "reason": str(exc)})
                continue
            info = _describe(comp)
            rows.append({**row, **info, "in_supercon": info["comp_key"] in supercon_keys})
    return pd.DataFrame(rows)


def build_cod(source: Path, supercon_keys: set[str], hosono_keys: set[str]) -> pd.DataFrame:
    """COD compositions (2009 list): presumed non-superconductors and a screening pool."""
    with gzip.open(source / "cod" / "cod_compositions_2009.csv.gz", "rt") as fh:
        names = pd.read_csv(fh)["matter "].astype(str).str.strip()
    rows = []
    for i, name in enumerate(names):
        try:
            comp = parse_formula(name)
        except InputError:
            continue
        key = composition_key(comp)
        symbols = {el.symbol for el in comp}
        rows.append({"id": f"cod-{i:06d}", "formula": name, "comp_key": key, "chemsys": chemical_system(comp),
                     "n_elements": len(comp), "family": family(comp),
                     "organic": {"C", "H"} <= symbols, "in_supercon": key in supercon_keys,
                     "in_hosono": key in hosono_keys})
    return pd.DataFrame(rows).drop_duplicates("comp_key").reset_index(drop=True)


def build_elements(source: Path) -> pd.DataFrame:
    """Element table: symbol, Z, group, period, block, Mendeleev number and Magpie properties."""
    pt = pd.read_csv(source / "elements" / "ptable.csv")
    table = pd.DataFrame({
        "Z": pt["atomic_number"], "symbol": pt["symbol"], "name": pt["name"], "block": pt["block"],
        "group": pt["group_id"], "period": pt["period"], "mendeleev_number": pt["mendeleev_number"],
        "first_ionization_energy": pt["ionization_energy"],
    })
    for prop in ELEMENT_PROPERTIES:
        table[prop] = pt[f"magp_{prop}"]
    konno = pd.read_csv(source / "elements" / "period_table_num_only.csv")
    table["konno_index"] = table["symbol"].map(dict(zip(konno["element"], konno["number"])))
    return table


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".gz":
        with gzip.GzipFile(path, "wb", mtime=0) as fh:
            fh.write(df.to_csv(index=False, lineterminator="\n").encode())
    else:
        df.to_csv(path, index=False, lineterminator="\n")


def build(source: Path, out: Path) -> dict:
    """Write every bundled file under `out` and return the manifest."""
    source, out = Path(source), Path(out)
    if not (source / "SHA256SUMS").exists():
        raise FileNotFoundError(f"{source} does not look like the shared data folder (no SHA256SUMS)")
    out.mkdir(parents=True, exist_ok=True)

    supercon, rejected = build_supercon(source)
    sc_keys = set(supercon["comp_key"])
    hosono = build_hosono(source, sc_keys)
    hosono_keys = set(hosono.loc[hosono["usable"], "comp_key"])
    tables = {
        "supercon.csv": supercon,
        "supercon_rejected.csv": rejected,
        "3dsc.csv": build_3dsc(source, sc_keys),
        "hosono.csv": hosono,
        "cod.csv.gz": build_cod(source, sc_keys, hosono_keys),
        "elements.csv": build_elements(source),
    }
    s2s_index, s2s_records = build_s2s(source)
    tables["s2s.csv"] = s2s_index
    for name, df in tables.items():
        _write_csv(df, out / name)
    with gzip.GzipFile(out / "s2s.jsonl.gz", "wb", mtime=0) as fh:
        fh.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in s2s_records).encode())
    shutil.copyfile(source / "3dsc_mp" / "3dsc_mp_cifs.tar.gz", out / "3dsc_cifs.tar.gz")

    files = sorted(p for p in out.iterdir() if p.name not in {"MANIFEST.json", "README.md"})
    manifest: dict[str, Any] = {
        "source_sha256sums": paths.sha256(source / "SHA256SUMS"),
        "files": {p.name: {"sha256": paths.sha256(p), "rows": int(len(tables[p.name])) if p.name in tables else None}
                  for p in files},
    }
    manifest["files"]["s2s.jsonl.gz"]["rows"] = len(s2s_records)
    with tarfile.open(out / "3dsc_cifs.tar.gz") as tar:
        manifest["files"]["3dsc_cifs.tar.gz"]["rows"] = sum(m.isfile() for m in tar.getmembers())
    manifest["data_hash"] = hashlib.sha256(
        json.dumps({k: v["sha256"] for k, v in manifest["files"].items()}, sort_keys=True).encode()
    ).hexdigest()
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
