"""Hostile input: every formula, CIF, POSCAR or zip ends in a faithful result or an InputError, within 2 s
and 500 MB, and the composition is never changed silently.

The generators, the contract checks and the worker process come from benchmarks/fuzz.py (``make fuzz``
runs the same generators on 100,000 cases); here hypothesis draws a bounded, derandomised sample. Each case
runs in a worker process, so a segfault, a hang or a memory blow-up fails the test instead of the run.
"""

from __future__ import annotations

import importlib.util
import io
import math
import random
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pymatgen.core import Composition, Lattice, Structure


def _load_harness():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "fuzz.py"
    spec = importlib.util.spec_from_file_location("fuzz_harness", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


fuzz = _load_harness()
OK = ("accepted", "clean_error")
# Derandomised for CI; no shrinking, so a case that hangs on a broken reader costs one timeout, not hundreds.
BOUNDED = settings(derandomize=True, database=None, deadline=None, phases=(Phase.explicit, Phase.generate),
                   suppress_health_check=list(HealthCheck))
randoms = st.randoms(use_true_random=False)


@pytest.fixture(scope="module")
def worker():
    w = fuzz.Worker()
    yield w
    w.close()


def _check(worker, case) -> None:
    category, detail, seconds, peak_mb = worker.run(case.kind, case.payload)
    assert category in OK, f"{case.kind} [{case.label}] {category}: {detail} | input {fuzz.excerpt(case.payload)}"


# -- property tests (hypothesis draws the mutations) --------------------------------------------------
@settings(BOUNDED, max_examples=150)
@given(rng=randoms)
def test_formulas_read_faithfully_or_refused(worker, rng):
    _check(worker, fuzz.formula_case(rng))


@pytest.mark.parametrize("family", sorted(fuzz.CIF_MUTATIONS))
@settings(BOUNDED, max_examples=20)
@given(rng=randoms)
def test_cif_mutations(worker, family, rng):
    _check(worker, fuzz.cif_case(rng, family))


@pytest.mark.parametrize("family", sorted(fuzz.POSCAR_MUTATIONS))
@settings(BOUNDED, max_examples=20)
@given(rng=randoms)
def test_poscar_mutations(worker, family, rng):
    _check(worker, fuzz.poscar_case(rng, family))


@settings(BOUNDED, max_examples=20)
@given(rng=randoms)
def test_zip_archives(worker, rng):
    _check(worker, fuzz.zip_case(rng))


# -- the reported failures, one case each ---------------------------------------------------------------
AU_SN = [("Au", "0 0 0", "1"), ("Sn", "0.5 0.5 0.5", "1")]


def _cif(a="3.0", angle="90", sites=AU_SN, ops=("x, y, z",)) -> str:
    """A CsCl-type AuSn CIF with the given cell, sites (symbol, fractional xyz, occupancy) and operations."""
    op_rows = "\n".join(f" '{op}'" for op in ops)
    site_rows = "\n".join(f" {symbol} {symbol}{i} {xyz} {occ}" for i, (symbol, xyz, occ) in enumerate(sites))
    return (f"data_test\n_cell_length_a {a}\n_cell_length_b 3.0\n_cell_length_c 3.0\n"
            f"_cell_angle_alpha {angle}\n_cell_angle_beta {angle}\n_cell_angle_gamma {angle}\n"
            f"loop_\n _symmetry_equiv_pos_as_xyz\n{op_rows}\n"
            "loop_\n _atom_site_type_symbol\n _atom_site_label\n _atom_site_fract_x\n _atom_site_fract_y\n"
            f" _atom_site_fract_z\n _atom_site_occupancy\n{site_rows}\n")


def _poscar(scale="1.0", a="3.0 0 0", second="0.5 0.5 0.5") -> str:
    return f"AuSn\n{scale}\n{a}\n0 3.0 0\n0 0 3.0\nAu Sn\n1 1\ndirect\n0 0 0\n{second}\n"


def _au(occupancy="1", symbol="Au"):
    return [(symbol, "0 0 0", occupancy), AU_SN[1]]


def _zip(*members, good=None) -> dict:
    archive = fuzz.zip_archive(list(members))
    return {"archive": archive, "names": [m.name for m in members], "good": good or {}}


def _member(name="a.cif", text=None, **fields):
    member = fuzz.deflated(name, (text or _cif()).encode())
    for key, value in fields.items():
        setattr(member, key, value)
    return member


def _known_cases():
    general = [(symbol, f"{0.013 * i + 0.011:.4f} {0.029 * i + 0.017:.4f} {0.041 * i + 0.023:.4f}", "1")
               for i, symbol in enumerate(["Cu"] * 100)]
    bomb, crc, size = fuzz.bomb()
    return {
        "cif: _cell_length_a inf": ("cif", _cif(a="inf")),
        "cif: _cell_length_a nan": ("cif", _cif(a="nan")),
        "cif: zero volume (angles 120)": ("cif", _cif(angle="120")),
        "cif: atoms 0.3 A apart": ("cif", _cif(sites=[("Au", "0 0 0", "1"), ("Sn", "0.1 0 0", "1")])),
        "cif: occupancy 0": ("cif", _cif(sites=_au("0"))),
        "cif: occupancy -1": ("cif", _cif(sites=_au("-1"))),
        "cif: occupancy nan": ("cif", _cif(sites=_au("nan"))),
        "cif: occupancy 1e-30": ("cif", _cif(sites=_au("1e-30"))),
        "cif: species Vac": ("cif", _cif(sites=_au(symbol="Vac"))),
        "cif: species Uue": ("cif", _cif(sites=_au(symbol="Uue"))),
        "cif: 100 sites x 192 operations": ("cif", _cif(a="40", sites=general, ops=fuzz.high_symmetry_ops())),
        "poscar: a = 0.01 A": ("poscar", _poscar(a="0.01 0 0")),
        "poscar: zero volume": ("poscar", _poscar(a="0 0 0")),
        "poscar: negative scale (volume 0.01 A3)": ("poscar", _poscar(scale="-0.01")),
        "poscar: atoms 0.3 A apart": ("poscar", _poscar(second="0.1 0 0")),
        "formula: Fe0.000000001": ("formula", "Fe0.000000001"),
        "formula: Fe0.000000001Ni": ("formula", "Fe0.000000001Ni"),
        "formula: Fe(III)": ("formula", "Fe(III)"),
        "formula: Zr0\uff19935": ("formula", "Zr0\uff19935"),
        "formula: Zn20 .3": ("formula", "Zn20 .3"),
        "formula: 400-digit amount": ("formula", "Fe" + "9" * 400),
        "formula: 300,000 characters": ("formula", "Fe" * 150_000),
        "composition: Fe inf": ("composition", {"Fe": math.inf}),
        "composition: Fe inf Ni 1": ("composition", {"Fe": math.inf, "Ni": 1.0}),
        "composition: Fe nan": ("composition", {"Fe": math.nan}),
        "composition: Fe 1e300": ("composition", {"Fe": 1e300}),
        "zip: encrypted member": ("zip", _zip(_member(flags=1))),
        "zip: corrupt member": ("zip", _zip(_member(data=b"\xff" * 40))),
        "zip: imploded member": ("zip", _zip(_member(method=6))),
        "zip: 1 GiB bomb": ("zip", _zip(fuzz.Member("bomb.cif", bomb, 8, crc, size))),
        "zip: bomb whose header says 700 bytes": ("zip", _zip(fuzz.Member("bomb.cif", bomb, 8, crc, 700))),
        "zip: 3000 members": ("zip", _zip(*(_member(f"m/{i}.cif", "x") for i in range(3000)))),
        "zip: one good member": ("zip", _zip(_member(), good={"a.cif": _cif()})),
    }


KNOWN = _known_cases()


@pytest.mark.parametrize("name", list(KNOWN))
def test_known_hostile_input(worker, name):
    kind, payload = KNOWN[name]
    _check(worker, fuzz.Case(kind, name, payload))


# -- the harness itself: it must notice what it is there to notice ---------------------------------------
@pytest.mark.parametrize("text, read, flagged", [
    ("Fe0.000000001Ni", "Ni", True),
    ("Fe(III)", "FeI3", True),
    ("Zr0\uff19935", "Zr9935", True),
    ("Zn20 .3", "Zn20.3", True),
    ("Uue2O", "U2O", True),
    ("Ba Fe2 As2", "BaFe2As2", False),
    ("2H-NbSe2", "NbSe2", False),
    ("D2O", "H2O", False),
    ("Ca10(Ir4As8)(Fe2As2)5", "Ca10Ir4As18Fe10", False),
])
def test_formula_contract_check(text, read, flagged):
    assert (fuzz.formula_violation(text, Composition(read)) is not None) == flagged


@pytest.mark.parametrize("symbol, element", [("Fe", "Fe"), ("FE", "Fe"), ("Fe2+", "Fe"), ("O2-", "O"), ("Fe+3", "Fe"),
                                             ("Fe_pv", "Fe"), ("Vac", None), ("Uue", None), ("Ci", None), ("D", None)])
def test_named_element(symbol, element):
    assert fuzz.named_element(symbol) == element


def _mg_b2() -> Structure:
    coords = [[0, 0, 0], [1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5]]
    return Structure(Lattice.hexagonal(3.08, 3.52), ["Mg", "B", "B"], coords)


def test_structure_contract_check_passes_a_real_crystal():
    fuzz.check_structure(_mg_b2(), _cif(sites=[("Mg", "0 0 0", "1"), ("B", "0.3333 0.6667 0.5", "1")]), "cif")


@pytest.mark.parametrize("structure, text, category", [
    (Structure(Lattice([[math.inf, 0, 0], [0, 3, 0], [0, 0, 3]]), ["Sn"], [[0.5, 0.5, 0.5]]), _cif(), "invalid"),
    (Structure(Lattice.cubic(3), ["Au", "Sn"], [[0, 0, 0], [0.1, 0, 0]]), _cif(), "invalid"),
    (Structure(Lattice.cubic(0.01), ["Au"], [[0, 0, 0]]), _poscar(), "invalid"),
    (Structure(Lattice.cubic(3), ["Sn"], [[0.5, 0.5, 0.5]]), _cif(sites=_au("0")), "silent"),
    (Structure(Lattice.cubic(3), ["V", "Sn"], [[0, 0, 0], [0.5, 0.5, 0.5]]), _cif(sites=_au(symbol="Vac")), "silent"),
    (Structure(Lattice.cubic(3), ["U", "Sn"], [[0, 0, 0], [0.5, 0.5, 0.5]]), _poscar().replace("Au Sn", "Uue Sn"),
     "silent"),
])
def test_structure_contract_check_flags_impossible_or_changed(structure, text, category):
    with pytest.raises(fuzz.Verdict) as verdict:
        fuzz.check_structure(structure, text, "poscar" if text.startswith("AuSn") else "cif")
    assert verdict.value.category == category


def test_worker_survives_crash_hang_and_memory_blow_up():
    w = fuzz.Worker(timeout=1.0, warm=False)
    try:
        assert w.run("selftest", "segfault")[0] == "crash"
        assert w.run("selftest", "hang")[0] == "hang"
        assert w.run("selftest", "allocate")[0] == "memory"
        assert w.run("selftest", "ok")[:2] == ("accepted", "ok")
        assert w.starts == 3  # restarted after the crash and after the hang only
    finally:
        w.close()


def test_handmade_zip_is_what_it_claims():
    good, encrypted = fuzz.deflated("a.cif", b"abc"), fuzz.deflated("b.cif", b"abc")
    encrypted.flags = 1
    archive = zipfile.ZipFile(io.BytesIO(fuzz.zip_archive([good, encrypted])))
    assert archive.read("a.cif") == b"abc"
    with pytest.raises(RuntimeError, match="encrypted"):
        archive.read("b.cif")


def _text(payload: str | bytes) -> str:
    return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload


@pytest.mark.parametrize("kind, families", [("cif", fuzz.CIF_MUTATIONS), ("poscar", fuzz.POSCAR_MUTATIONS)])
def test_every_mutation_changes_its_seed(kind, families):
    seeds = dict(fuzz.cif_seeds() if kind == "cif" else fuzz.poscar_seeds())
    make = fuzz.cif_case if kind == "cif" else fuzz.poscar_case
    for family in families:
        cases = [make(random.Random(i), family) for i in range(10)]
        changed = [c for c in cases if _text(c.payload) != seeds[c.label.split(";")[0]]]
        assert len(changed) >= 8, f"{kind} mutation {family!r} left most seeds unchanged"
