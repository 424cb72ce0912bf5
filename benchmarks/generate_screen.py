"""Generating and screening pools of 10^4, 10^5 and 10^6 compositions (10^7 with --huge):
``python benchmarks/generate_screen.py [--sizes 10000,100000] [--huge] [--model baseline]``.

For each size N, ``sc generate --elements ELEMENTS --arity 2,3,4 --max-atoms 8 --limit N -o pool.csv`` and then
``sc screen pool.csv --models MODEL --top 100`` run in child processes of their own; printed for each: wall seconds,
compositions per second and the child's peak resident memory (``os.wait4``'s rusage of that child alone). The pools
are the first N compositions in the generator's order (binaries first), so the smaller ones hold fewer ternaries and
quaternaries. Screening streams the pool in chunks, so its peak memory should not grow with N.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ELEMENTS = ("H,Li,Be,B,C,N,O,F,Na,Mg,Al,Si,P,S,Cl,K,Ca,Sc,Ti,V,Cr,Mn,Fe,Co,Ni,Cu,Zn,Ga,Ge,As,Se,Rb,Sr,Y,Zr,Nb,Mo,"
            "Ru,Rh,Pd,Ag,Cd,In,Sn,Sb,Te,Ba,La,Hf,Ta,W,Re,Ir,Pt,Pb,Bi")  # 56: 13,941,048 of 2-4 up to 8 atoms
SIZES = (10_000, 100_000, 1_000_000)
HUGE = 10_000_000


def timed(argv: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, the last line on stderr) of ``python -m sc_core.cli ARGV`` in a child process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "sc_core.cli", *argv], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"sc {' '.join(argv)} failed ({child.returncode}):\n{err}")
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    return seconds, usage.ru_maxrss / 1024, lines[-1] if lines else ""  # ru_maxrss: KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/generate_screen.py")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated pool sizes")
    parser.add_argument("--huge", action="store_true", help=f"also a pool of {HUGE:,} compositions")
    parser.add_argument("--model", default="baseline", help="the model that screens (default: baseline)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([HUGE] if args.huge else [])
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}; elements {ELEMENTS}; model {args.model}")
    print(f"{'compositions':>13} {'step':>9} {'seconds':>9} {'per second':>11} {'peak RSS MB':>12}")
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            pool, shortlist = Path(folder) / f"pool_{n}.csv", Path(folder) / f"shortlist_{n}.csv"
            steps = {
                "generate": ["generate", "--elements", ELEMENTS, "--arity", "2,3,4", "--max-atoms", "8",
                             "--limit", str(n), "-o", str(pool)],
                "screen": ["screen", str(pool), "-o", str(shortlist), "--models", args.model, "--top", "100"],
            }
            for step, argv in steps.items():
                seconds, rss, summary = timed(argv)
                if step == "generate":  # "N compositions written to ...": fewer than asked if the elements run out
                    rows = int(summary.split()[0].replace(",", ""))
                print(f"{rows:>13,} {step:>9} {seconds:>9.1f} {rows / seconds:>11,.0f} {rss:>12,.0f}", flush=True)
            pool.unlink()


if __name__ == "__main__":
    main()
