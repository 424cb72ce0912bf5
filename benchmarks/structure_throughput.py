"""Throughput of a structure model: ``python benchmarks/structure_throughput.py [--model crystal_graph]``.

Structures per second for ``model.predict(structures)`` over the bundled 3DSC structures (already parsed,
as a screening run holds them), end to end and split into graph building and network inference. Without a
committed checkpoint the network is freshly initialised at its default size (same arithmetic; the output
says so).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from sc_core import checkpoints, data
from sc_core.models import load, model_class

GOAL_RATE = 300  # structures per second, graph building plus inference


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/structure_throughput.py")
    parser.add_argument("--model", default="crystal_graph")
    parser.add_argument("-n", type=int, default=3000, help="number of 3DSC structures (default 3000)")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}")
    if checkpoints.exists(args.model):
        model, what = load(args.model), f"checkpoint {load(args.model).version}"
    else:
        model = model_class(args.model)()
        model.net = model.network().eval()
        what = f"no checkpoint: freshly initialised network, parameters {model.params}"
    table = data.load_3dsc().sample(n=min(args.n, 10_904), random_state=0)
    structures = data.structures_3dsc(table["cif_name"])
    n_sites = sum(len(s) for s in structures)
    model.predict(structures[:10])  # warm-up

    start = time.perf_counter()
    out = model.predict(structures)
    total = time.perf_counter() - start
    start = time.perf_counter()
    graphs = [model.graph(s) for s in structures]  # the model's own graph (S2SNet: occupancy nodes)
    t_graph = time.perf_counter() - start
    start = time.perf_counter()
    model.predict_graphs(graphs)
    t_net = time.perf_counter() - start

    rate = len(structures) / total
    print(f"\n{args.model} ({what})\n{len(structures):,} 3DSC structures, {n_sites / len(structures):.1f} sites on "
          f"average, {int((out['error'] != '').sum())} with errors")
    print(f"  end to end  model.predict(structures)  {total:6.2f} s  {rate:8,.0f} structures/s  "
          f"goal >= {GOAL_RATE} /s  {'met' if rate >= GOAL_RATE else 'NOT MET'}")
    for stage, seconds in (("graph building", t_graph), ("network inference", t_net)):
        print(f"  {stage:<38}  {seconds:6.2f} s  {len(structures) / seconds:8,.0f} structures/s")


if __name__ == "__main__":
    main()
