"""``python -m sc_core.data build --source SOURCE [--out data]`` (``make data`` names the source folder)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sc_core.data import DATA_DIR
from sc_core.data.build import build


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sc_core.data")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="turn the shared source folder into the bundled data/ folder")
    b.add_argument("--source", type=Path, required=True, help="the raw source folder (the one with SHA256SUMS)")
    b.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    manifest = build(args.source, args.out)
    for name, entry in sorted(manifest["files"].items()):
        print(f"{name:28s} {entry['rows'] if entry['rows'] is not None else '':>8} {entry['sha256'][:12]}")
    print(f"data hash {manifest['data_hash']}")


if __name__ == "__main__":
    main()
