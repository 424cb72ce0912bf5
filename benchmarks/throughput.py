"""Throughput and latency of a composition model: ``python benchmarks/throughput.py [--model NAME]``.

(a) compositions per second for ``model.predict(formulas)`` over the whole COD pool, end to end and
split into parse (formulas read into a CompositionBatch) / featurise / predict; (b) the warm latency of one formula.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

from sc_core import data
from sc_core.models import load
from sc_core.models.base import as_records

FORMULA = "La1.85Sr0.15CuO4"
LATENCY_CALLS = 50
GOAL_RATE = 60_000  # compositions per second (issue #19)
GOAL_LATENCY_MS = 50.0
BATCH = 20_000  # Model.predict's default batch size; one batch of 158k would measure memory traffic instead


def _timed(fn, *args):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/throughput.py")
    parser.add_argument("--model", default="baseline", help="a composition model (default: baseline)")
    name = parser.parse_args().model
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    formulas = data.load_cod(inorganic_only=False)["formula"].tolist()
    model = load(name)
    model.predict([FORMULA])  # warm-up: element property table and caches

    out, total = _timed(model.predict, formulas)
    n = len(formulas)
    rate = n / total
    print(f"\n(a) throughput, {name} {model.version}, {n:,} COD formulas ({(out['error'] != '').sum()} with errors)")
    print(f"    end to end   model.predict(formulas)  {total:7.2f} s  {rate:9,.0f} /s  "
          f"goal >= {GOAL_RATE:,} /s  {'met' if rate >= GOAL_RATE else 'NOT MET'}")

    records, t_parse = _timed(as_records, formulas)
    valid = np.flatnonzero((records.table["error"] == "").to_numpy())
    batches = [records.batch.take(valid[i : i + BATCH]) for i in range(0, len(valid), BATCH)]
    features, t_feat = _timed(lambda: [model.featurize_batch(batch) for batch in batches])
    _, t_pred = _timed(lambda: [model.predict_features(X) for X in features])
    print(f"    stages (featurise and predict in batches of {BATCH:,}, as Model.predict):")
    for stage, seconds in (("parse (as_records)", t_parse), ("featurise", t_feat), ("predict", t_pred),
                           ("other (predict() overhead)", total - t_parse - t_feat - t_pred)):
        print(f"    {stage:<27}  {seconds:7.2f} s  {seconds / n * 1e6:7.1f} µs/formula  "
              f"{seconds / total:5.1%} of end to end")

    latencies = []
    for _ in range(LATENCY_CALLS):
        _, seconds = _timed(model.predict, [FORMULA])
        latencies.append(seconds * 1e3)
    median = statistics.median(latencies)
    print(f"\n(b) warm latency of one formula ({FORMULA}), median of {LATENCY_CALLS} calls: {median:.1f} ms  "
          f"(min {min(latencies):.1f}, max {max(latencies):.1f})  goal < {GOAL_LATENCY_MS:g} ms  "
          f"{'met' if median < GOAL_LATENCY_MS else 'NOT MET'}")


if __name__ == "__main__":
    main()
