"""Start-up and prediction time of the command line: ``python benchmarks/cli_timings.py [--model NAME]``.

Whole processes (median of RUNS): ``sc --help`` (start-up), ``sc predict MgB2``, and ``import sc_core.cli``
in a fresh interpreter. In this process, after that import: one ``sc predict MgB2`` (listing the models,
loading one, predicting), the model load alone, and one ``predict`` call on the loaded model, first (it builds
the forests' traversal layout) and later ones. Goals (#18): start-up < 2 s, predict after start-up < 0.5 s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import time

RUNS = 3
FORMULA = "MgB2"
IMPORT_CLI = "import time; t = time.perf_counter(); import sc_core.cli; print(time.perf_counter() - t)"


def whole_process(*argv: str) -> float:
    """Median seconds of RUNS runs of ``python -m sc_core.cli ARGV``."""
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sc_core.cli", *argv], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_seconds() -> float:
    """Median seconds of ``import sc_core.cli`` in a fresh interpreter."""
    return statistics.median(float(subprocess.run([sys.executable, "-c", IMPORT_CLI], check=True,
                                                  capture_output=True, text=True).stdout) for _ in range(RUNS))


def seconds(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def in_process(model_name: str) -> list[tuple[str, float]]:
    """The in-process rows (see the module docstring)."""
    from sc_core import cli, models

    with contextlib.redirect_stdout(io.StringIO()):
        command = seconds(cli.main, ["predict", FORMULA, "--model", model_name])
    models.load.cache_clear()
    load = seconds(models.load, model_name)
    model = models.load(model_name)
    calls = [seconds(cli.predict_rows, model, cli.read_inputs([FORMULA])) for _ in range(RUNS + 1)]
    return [(f"sc predict {FORMULA} after the import (in process)", command),
            (f"  load {model_name}", load),
            (f"  predict {FORMULA}, first call after the load", calls[0]),
            (f"  predict {FORMULA}, later calls (median)", statistics.median(calls[1:]))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="baseline", help="model for the predictions (default: baseline)")
    args = parser.parse_args()
    rows = [("sc --help (start-up, whole process)", whole_process("--help")),
            (f"sc predict {FORMULA} --model {args.model} (whole process)",
             whole_process("predict", FORMULA, "--model", args.model)),
            ("import sc_core.cli (fresh interpreter)", import_seconds()),
            *in_process(args.model)]
    for what, value in rows:
        print(f"{what:52s} {value:7.3f} s")


if __name__ == "__main__":
    main()
