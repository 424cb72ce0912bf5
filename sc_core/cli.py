"""Command line: ``sc predict``, ``sc screen``, ``sc generate``, ``sc evaluate``, ``sc train``, ``sc models``,
``sc pools``.

The CLI only reads arguments and files and prints; the work is done by :mod:`sc_core`. How
``sc predict`` tells formulas from paths is :data:`INPUT_RULES` (shown by ``sc predict --help``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Structure
from tqdm import tqdm

from sc_core import checkpoints, chemistry, models, paths, screening, thresholds, train
from sc_core.data import DataIntegrityError, find_mp_id
from sc_core.evaluate import PROTOCOL_NAMES, PROTOCOLS, RESULTS_DIR, SEEDS, evaluate
from sc_core.io import POOL_COLUMNS, InputError, excerpt, is_mp_id, is_structure_name, parse_formula, quote, read_pool
from sc_core.screening import stream, tables

BATCH_SIZE = 2_000
PROGRESS_MIN_ROWS = 1_000
TABLE_SUFFIXES = (".csv",)
ARCHIVE_SUFFIXES = (".zip",)
OUTPUT_SUFFIXES = (".csv", ".json")
TABLE_CELL_CHARS = 60  # the printed table shows at most about this much of an id or a formula
INPUT_RULES = """How each INPUT is read:
  * an existing file or folder: a .csv (a 'formula' column, optional 'id'; other columns are
    carried through), a .zip or folder (every CIF/POSCAR inside; ids are their paths inside it;
    hidden files and __MACOSX are skipped), any other file one CIF/POSCAR;
  * a token that looks like a path but does not exist is an error (exit code 2): it contains '/',
    ends in .cif, .vasp, .poscar, .csv or .zip, or is named POSCAR*/CONTCAR*;
  * a Materials Project id (mp-19735) is the bundled 3DSC structure of that id, as in the app;
  * anything else is a chemical formula (La1.85Sr0.15CuO4).
A file, id or formula that cannot be read becomes a row with a message in the 'error' column; when no
input can be predicted the exit code is 2."""


# -- reading inputs --------------------------------------------------------------------------------
@dataclass
class Row:
    """One input: its id, a formula or Structure (None if unreadable), the read error, carried columns."""

    id: str
    item: str | Structure | None
    error: str = ""
    extra: dict = field(default_factory=dict)


def _looks_like_path(token: str) -> bool:
    """True if `token` can only be meant as a file: a separator, a known suffix or a POSCAR name."""
    return (any(sep in token for sep in {"/", os.sep})
            or token.lower().endswith(TABLE_SUFFIXES + ARCHIVE_SUFFIXES)
            or is_structure_name(token))


def _rows(pool: pd.DataFrame) -> list[Row]:
    """The rows of a pool read by :func:`sc_core.io.read_pool`."""
    carried = pool.drop(columns=list(POOL_COLUMNS)).to_dict("records")
    return [Row(i, None if error else formula if structure is None else structure, error, extra)
            for i, formula, structure, error, extra
            in zip(pool["id"], pool["formula"], pool["structure"], pool["error"], carried)]


def read_inputs(tokens: list[str]) -> list[Row]:
    """One row per formula, CSV row or structure file, in the order given (see INPUT_RULES)."""
    rows: list[Row] = []
    for token in tokens:
        if os.path.exists(token):
            rows += _rows(read_pool(token))
        elif _looks_like_path(token):
            raise InputError(f"No such file or folder: {quote(token)}")
        elif is_mp_id(token):
            rows.append(_mp_id_row(token))
        else:
            rows.append(Row(token, token))
    return rows


def _mp_id_row(token: str) -> Row:
    """The bundled 3DSC structure of a Materials Project id (as on the Predict page), or its error."""
    try:
        return Row(token, find_mp_id(token)[0])
    except InputError as exc:
        return Row(token, None, str(exc))


# -- predict -----------------------------------------------------------------------------------------
def _check_model(name: str) -> None:
    """InputError listing the available models if `name` is not one of them."""
    if name not in models.available():
        where = checkpoints.CHECKPOINT_DIR
        hint = f" {paths.missing_hint(where, 'SC_CHECKPOINT_DIR')}" if not where.exists() else ""
        raise InputError(f"Unknown model {quote(name)}; available: {', '.join(models.available()) or 'none'}.{hint}")


def predict_rows(model: models.Model, rows: list[Row], batch_size: int = BATCH_SIZE) -> pd.DataFrame:
    """Predictions for `rows` in input order, with a progress bar on stderr for long inputs.

    Columns: those of ``Model.predict``, then the carried columns (those named like an output
    column are dropped). The batches are cut here rather than by ``Model.predict(progress=...)``
    because that reports only after all formulas are parsed, which is over half the time.
    """
    readable = [i for i, row in enumerate(rows) if not row.error]
    items = [rows[i].item for i in readable]
    parts = [model.predict([])]  # the output columns, even when nothing is readable
    with tqdm(total=len(items), unit="row", file=sys.stderr, disable=len(items) <= PROGRESS_MIN_ROWS) as bar:
        for start in range(0, len(items), batch_size):
            parts.append(model.predict(items[start : start + batch_size]))
            bar.update(len(parts[-1]))
    predicted = pd.concat(parts, ignore_index=True).set_axis(readable)
    unreadable = pd.DataFrame([{"formula": "", "error": row.error, "model": model.name}
                               for row in rows if row.error], index=[i for i, row in enumerate(rows) if row.error])
    out = pd.concat([predicted, unreadable]).sort_index()[predicted.columns]
    out["id"] = [row.id for row in rows]
    extra = pd.DataFrame([row.extra for row in rows], index=out.index)
    return pd.concat([out, extra.drop(columns=out.columns, errors="ignore")], axis=1)


def format_predictions(out: pd.DataFrame) -> str:
    """Readable table: id, formula (both cut to about TABLE_CELL_CHARS), P(sc) ± std, Tc ± std (K), error."""
    def fmt(values: pd.Series, digits: int) -> pd.Series:
        return values.map(lambda v: "" if np.isnan(v) else f"{v:.{digits}f}")

    def cut(values: pd.Series) -> pd.Series:
        return values.map(lambda v: excerpt(v, TABLE_CELL_CHARS))

    table = pd.concat([cut(out["id"]), cut(out["formula"]), fmt(out["p_sc"], 3), fmt(out["p_sc_std"], 3),
                       fmt(out["tc_K"], 1), fmt(out["tc_std_K"], 1)], axis=1)
    table.columns = ["id", "formula", "P(sc)", "±", "Tc K", "±"]
    if "predicted_sc" in out:
        table.insert(4, f"P ≥ {out['decision_threshold'].iloc[0]:.2f}", out["predicted_sc"].map(
            {True: "yes", False: "no"}).fillna(""))
    if "in_domain" in out:
        table["in domain"] = out["in_domain"].map({True: "yes", False: "no"}).fillna("")
    table["error"] = out["error"]
    for col in ("id", "formula", "error"):  # left-aligned text
        table[col] = table[col].astype(str).str.ljust(int(table[col].astype(str).str.len().max()))
    return table.to_string(index=False, justify="left")


def cmd_predict(args: argparse.Namespace) -> int:
    if args.output and not args.output.lower().endswith(OUTPUT_SUFFIXES):
        raise InputError(f"-o must name a .csv or .json file, not {quote(args.output)}.")
    _check_model(args.model)
    model = models.load(args.model)
    rows = read_inputs(args.inputs)
    out = predict_rows(model, rows)
    cut = thresholds.of(model.card)
    predicted = (out["p_sc"] >= cut).where(out["p_sc"].notna())
    out.insert(int(out.columns.get_loc("p_sc_std")) + 1, "predicted_sc", predicted)
    out.insert(int(out.columns.get_loc("predicted_sc")) + 1, "decision_threshold", cut)
    if args.domain:
        from sc_core import domain

        comps: list[Composition | None] = [
            None if row.item is None or out.at[i, "error"] else
            parse_formula(row.item) if isinstance(row.item, str) else row.item.composition
            for i, row in enumerate(rows)]
        out = pd.concat([out, domain.assess(comps).set_axis(out.index)], axis=1)
    if args.output:
        if args.output.lower().endswith(".csv"):
            out.to_csv(args.output, index=False)
        else:
            out.to_json(args.output, orient="records", indent=1)
        n_errors = int((out["error"] != "").sum())
        print(f"{len(out)} rows ({n_errors} with errors) written to {args.output}")
    elif args.json:
        print(out.to_json(orient="records"))
    else:
        print(format_predictions(out))
    return 0 if out["p_sc"].notna().any() else 2  # 2: nothing could be predicted


# -- screen ------------------------------------------------------------------------------------------
SHORTLIST_SUFFIXES = (".csv", ".json", ".xlsx")


def pool_from_argument(token: str) -> pd.DataFrame:
    """A bundled pool by name in any case (3dsc, s2s, cod), or a pool from a CSV, folder, zip or structure file."""
    name = screening.pool_name(token)
    if name:
        return screening.load_pool(name)
    if not os.path.exists(token):
        raise InputError(f"{quote(token)} is neither a bundled pool ({', '.join(screening.POOLS)}) "
                         "nor an existing file or folder (for a few formulas, use `sc predict`).")
    return read_pool(token)


def _shard(text: str) -> tuple[int, int]:
    """argparse type for ``i/N``."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected i/N such as 0/4, got {quote(text)}") from None
    if count < 1 or not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"expected 0 <= i < N, got {quote(text)}")
    return index, count


def _positive(text: str) -> int:
    """argparse type for a whole number of at least 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {quote(text)}")
    return int(text)


def _family(text: str) -> str:
    """A family name or an unambiguous start of one (``iron`` → ``iron-based``)."""
    hits = [f for f in chemistry.FAMILIES if f.startswith(text)]
    if len(hits) != 1:
        raise ValueError(f"unknown family {quote(text)}; choose from {', '.join(chemistry.FAMILIES)}")
    return hits[0]


def _advance(bar: tqdm) -> Callable[[int, int], None]:
    """A progress callback ``(done, total)`` that moves `bar`."""
    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)
    return progress


def cmd_screen(args: argparse.Namespace) -> int:
    if not args.output.lower().endswith(SHORTLIST_SUFFIXES):
        raise InputError(f"-o must name a .csv, .json or .xlsx file, not {quote(args.output)}.")
    names = list(args.models or models.available())
    for name in names:
        _check_model(name)
    filters = screening.Filters(min_p=args.min_p or 0.0, predicted_only=args.min_p is None, tc_min=args.tc_min,
                                exclude_families=args.exclude_family, known=args.known)
    streamed = args.pool == tables.STDIO or (tables.is_table(args.pool) and os.path.isfile(args.pool))
    if streamed and args.backend == "ray":
        if args.pool == tables.STDIO or args.shard:
            raise InputError("--backend ray splits a pool file into shards itself: give it a CSV or Parquet file, "
                             "without --shard.")
        screened = _screen_parts(args.pool, names, filters, args.top, args.tasks, Path(args.output).parent)
    elif streamed:
        screened = _screen_streamed(args.pool, names, filters, args.top, args.shard)
    else:
        screened = _screen_in_memory(args, names, filters)
    shortlist, n_unscored = screened.shortlist, len(screened.unscored)
    n_passed = len(shortlist)
    if not args.hide_errors:
        shortlist = screening.with_unscored(shortlist, screened.unscored)
    shortlist = screening.annotate(shortlist)  # every written row, the unscored ones too
    Path(args.output).write_bytes(screening.export(shortlist, args.output.rsplit(".", 1)[1].lower(), names))
    where = f" (shard {args.shard[0]}/{args.shard[1]})" if args.shard else ""
    unscored = "left out (--hide-errors)" if args.hide_errors else "written after the shortlist with their error"
    source = "standard input" if args.pool == tables.STDIO else args.pool
    print(f"{n_passed:,} of {screened.rows:,} materials from {source}{where} pass the filters; "
          f"{n_unscored:,} could not be scored, {unscored}; shortlist written to {args.output}")
    return 0 if n_unscored < screened.rows else 2  # nothing scored: an error, as for sc predict


def _screen_in_memory(args: argparse.Namespace, names: list[str], filters: screening.Filters) -> stream.Screened:
    """Screen a whole pool read at once (a bundled one, structure files, a shard, the Ray backend)."""
    pool = pool_from_argument(args.pool)
    if args.shard:
        pool = screening.shard(pool, *args.shard)
    with tqdm(unit="step", file=sys.stderr, disable=len(pool) * len(names) <= PROGRESS_MIN_ROWS) as bar:
        table = screening.screen(pool, names, progress=_advance(bar), backend=args.backend)
    return stream.Screened(screening.apply_filters(table, filters).head(args.top), table[table["p_sc"].isna()],
                           len(table))


def _screen_streamed(path: str, names: list[str], filters: screening.Filters, top: int | None,
                     shard: tuple[int, int] | None) -> stream.Screened:
    """Screen a CSV or Parquet file (or its shard), or CSV on standard input, in chunks
    (:mod:`sc_core.screening.stream`), with a progress bar in rows per second and the time left (where the rows
    can be counted first: a whole file)."""
    total = None if shard else tables.count_rows(path)
    small = total is not None and total * len(names) <= PROGRESS_MIN_ROWS
    with tqdm(total=total, unit="row", file=sys.stderr, disable=small) as bar:
        return stream.screen_chunks(tables.read_chunks(path, shard=shard), names, filters, top,
                                    lambda n: bar.update(n - bar.n))


def _screen_parts(path: str, names: list[str], filters: screening.Filters, top: int | None, n_tasks: int,
                  near: Path) -> stream.Screened:
    """Screen a pool file as Ray tasks that each read their own shard and write part files
    (:mod:`sc_core.screening.parts`) to a temporary folder beside the output, removed once merged."""
    import tempfile

    from sc_core.screening import parts

    with tempfile.TemporaryDirectory(prefix=".sc-parts-", dir=near) as folder, \
            tqdm(total=tables.count_rows(path), unit="row", file=sys.stderr) as bar:
        return parts.screen_parts(path, names, filters, top, folder, n_tasks, lambda n: bar.update(n - bar.n))


def cmd_generate(args: argparse.Namespace) -> int:
    import itertools

    from sc_core import generate, substitute

    enumerate_ = substitute.substitutions if args.substitute else generate.compositions
    formulas = itertools.islice(enumerate_(args.elements, args.arity, args.max_atoms, args.alloys), args.limit)
    try:
        with tables.TableWriter(args.output) as writer:
            while chunk := list(itertools.islice(formulas, tables.CHUNK_ROWS)):
                writer.write(pd.DataFrame({"formula": chunk}))
    except BrokenPipeError:  # the reader of standard output stopped (`| head`, or it failed and said why)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python exits
        return 0
    if not writer.rows:
        raise InputError("No composition of these elements is charge-neutral within the limits; add elements, "
                         "raise --max-atoms or give --alloys.")
    where = "standard output" if args.output == tables.STDIO else args.output
    print(f"{writer.rows:,} compositions written to {where}", file=sys.stderr)
    return 0


# -- evaluate, train, models -------------------------------------------------------------------------
def _comma_list(choices: tuple[str, ...] | None = None, cast: Callable[[str], object] = str):
    """argparse type for comma-separated values, optionally restricted to `choices`."""
    def parse(text: str) -> tuple:
        values = tuple(v.strip() for v in text.split(",") if v.strip())
        unknown = [v for v in values if choices and v not in choices]
        if unknown or not values:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list from {', '.join(choices)}"
                                             if choices else "expected a comma-separated list")
        try:
            return tuple(cast(v) for v in values)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
    return parse


def results_frame(result: dict) -> pd.DataFrame:
    """One row per protocol and task: dataset, protocol, task, threshold, n_test, each metric mean ± std."""
    rows = [{"dataset": r["dataset"], "protocol": r["protocol"], "task": r["task"],
             "threshold_K": f"{r['threshold_K']:g}", "n_test": r["n_test"],
             **{m: f"{v['mean']:.3f} ± {v['std']:.3f}" for m, v in r["metrics"].items()}}
            for r in result["results"]]
    return pd.DataFrame(rows).fillna("")


def cmd_evaluate(args: argparse.Namespace) -> int:
    for name in models.available() if args.model == "all" else [args.model]:
        _check_model(name)
        result = evaluate(name, datasets=args.datasets, seeds=args.seeds, limit=args.limit, out_dir=args.out_dir,
                          jobs=args.jobs, protocols=args.protocols, fits=args.fits, conformal=args.conformal)
        print()
        print(results_frame(result).to_string(index=False))
        print(f"\nresults written to {Path(args.out_dir) / (name + '.json')}")
        if args.limit is None and Path(args.out_dir) == RESULTS_DIR:  # published results go onto the card too
            train.record_metrics(name, result)
            print(f"metrics recorded on the card of {checkpoints.CHECKPOINT_DIR / name}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    train.main([args.name] + (["--skip-evaluation"] if args.skip_evaluation else []))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    names = models.available()
    if not names:
        print("No trained models; train one with `sc train baseline`.")
        return 0
    cards = [checkpoints.read_card(name) for name in names]
    table = pd.DataFrame({
        "model": names,
        "version": [card.get("version", "") for card in cards],
        "data_hash": [card.get("data_hash", "")[:12] for card in cards],
        "created": [card.get("created", "")[:10] for card in cards],
        "threshold": [f"{thresholds.of(card):.2f}" + ("" if thresholds.CARD_FIELD in card else " (default)")
                      for card in cards],
    })
    print(table.to_string(index=False))
    return 0


def _store_pool(name: str, pool: str) -> Path:
    """Store model `name`'s predictions on bundled pool `pool`, with a progress bar on stderr."""
    from sc_core.screening import cache

    with tqdm(desc=f"{name} on {pool}", unit="row", file=sys.stderr) as bar:
        return cache.build(name, pool, _advance(bar))


def cmd_pools(args: argparse.Namespace) -> int:
    import time

    from sc_core.screening import cache

    names = list(args.models or models.available())
    for name in names:
        _check_model(name)
    start = time.perf_counter()
    folders = [_store_pool(name, pool) for name in names for pool in args.pools if cache.applies(name, pool)]
    size = sum(path.stat().st_size for folder in folders for path in folder.iterdir())
    print(f"stored the predictions of {len(folders)} model-pool pairs ({size / 1e6:.1f} MB) under "
          f"{checkpoints.CHECKPOINT_DIR}/<model>/pools/ in {time.perf_counter() - start:.0f} s")
    return 0


# -- entry point ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sc", description="Machine-learning-guided superconductor discovery.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="P(superconductor) and Tc for formulas or structure files",
                       description=INPUT_RULES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="formula, MP id of a bundled structure, CIF/POSCAR file, CSV with a formula column, "
                        "folder or .zip of CIFs")
    p.add_argument("--model", default="baseline", help="model name (see `sc models`; default: baseline)")
    p.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    p.add_argument("--domain", action="store_true",
                   help="add in_domain and domain_distance: is each material near what the models were trained on "
                        "(about 3 s more, to index SuperCon)")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="write all columns to OUT (.csv or .json) and print only a summary line")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("screen", help="screen a pool of materials and write a filtered, ranked shortlist",
                       description="POOL is a bundled pool (" + ", ".join(screening.POOLS) + ", in any case) or, "
                                   "as for `sc predict`, a CSV with a formula column, a folder or .zip of CIF/POSCAR "
                                   "files, or one such file; anything else is an error. A CSV or Parquet file, or - "
                                   "(CSV on standard input, e.g. from `sc generate`), is screened in chunks of "
                                   f"{tables.CHUNK_ROWS:,} rows: memory stays flat in the pool's size (give --top "
                                   "to bound the shortlist too).")
    p.add_argument("pool", metavar="POOL")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="shortlist file: .csv, .json or .xlsx")
    p.add_argument("--models", type=_comma_list(), help="comma-separated (default: every trained model)")
    p.add_argument("--min-p", type=float, help="minimum consensus P(superconductor) (default: the models' decision "
                                               "threshold, chosen on leave-one-family-out folds; see `sc models`)")
    p.add_argument("--tc-min", type=float, help="minimum predicted Tc in K")
    p.add_argument("--exclude-family", type=_comma_list(cast=_family), default=(),
                   help=f"comma-separated among {', '.join(chemistry.FAMILIES)} "
                        "(a unique start such as 'iron' is enough)")
    p.add_argument("--known", choices=("any", "known", "unknown"), default="any",
                   help="keep materials in SuperCon, not in it, or both (default: any)")
    p.add_argument("--top", type=_positive, help="keep only the N most likely candidates")
    p.add_argument("--shard", type=_shard, metavar="i/N",
                   help="screen only shard i (0-based) of N contiguous shards of the pool, e.g. on N machines")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="run in this process, or as Ray tasks on a running or local Ray cluster (pip install ray): "
                        "a CSV or Parquet pool is split into --tasks shards, each read and screened by its own task")
    p.add_argument("--tasks", type=int, default=8, metavar="N",
                   help="shards of a pool file screened as Ray tasks with --backend ray (default 8)")
    p.add_argument("--hide-errors", action="store_true",
                   help="leave out the materials no model could score (by default they follow the shortlist, "
                        "each with its error)")
    p.set_defaults(func=cmd_screen)

    p = sub.add_parser("generate", help="enumerate hypothetical charge-neutral compositions of chosen elements into "
                                        "a pool for `sc screen`",
                       description="Every reduced integer stoichiometry of ARITY of the ELEMENTS with at most "
                                   "MAX_ATOMS atoms per formula unit that smact finds charge-neutral with cations "
                                   "less electronegative than anions (or, with --substitute, known superconductors "
                                   "with one element swapped), in a fixed order, each formula once: "
                                   "sc generate --elements Nb,Sn,Ge,Al --arity 2,3 | sc screen - -o shortlist.csv")
    p.add_argument("--elements", required=True, type=_comma_list(), help="comma-separated symbols, e.g. Nb,Sn,Ge,Al")
    p.add_argument("--arity", type=_comma_list(cast=int), default=(2, 3),
                   help="elements per composition, comma-separated among 2,3,4 (default: 2,3)")
    p.add_argument("--max-atoms", type=int, default=8, help="most atoms per formula unit (default: 8)")
    p.add_argument("--alloys", action="store_true",
                   help="also keep every ratio of metals only (intermetallics such as Nb3Sn), charged or not")
    p.add_argument("--substitute", action="store_true",
                   help="instead of every ratio: each SuperCon superconductor of whole-number stoichiometry with one "
                        "element replaced by one of ELEMENTS from its group of the periodic table (Nb3Sn → Nb3Si)")
    p.add_argument("--limit", type=_positive, help="stop after N compositions")
    p.add_argument("-o", "--output", default=tables.STDIO, metavar="OUT",
                   help="pool file: .csv or .parquet (a 'formula' column), or - for CSV on standard output (default)")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("evaluate", help="run the evaluation protocols and write benchmarks/results/<model>.json")
    p.add_argument("--model", required=True, help="a trained model, or all: every trained model in turn")
    p.add_argument("--datasets", type=_comma_list(tuple(PROTOCOLS)), default=None,
                   help=f"comma-separated among {','.join(PROTOCOLS)} (default: those that apply to the model)")
    p.add_argument("--seeds", type=_comma_list(cast=int), default=SEEDS,
                   help=f"comma-separated (default: {','.join(map(str, SEEDS))})")
    p.add_argument("--limit", type=int, help="subsample every dataset to N rows (quick checks only)")
    p.add_argument("--out-dir", default=RESULTS_DIR, type=Path, help=f"(default: {RESULTS_DIR})")
    p.add_argument("--protocols", type=_comma_list(PROTOCOL_NAMES), default=None,
                   help=f"comma-separated among {','.join(PROTOCOL_NAMES)} (default: all); the stored results "
                        "of the others are kept")
    saved = p.add_mutually_exclusive_group()
    saved.add_argument("--save-fits", dest="fits", action="store_const", const="save",
                       help="keep every split's fitted model under checkpoints/<model>/fits/")
    saved.add_argument("--from-fits", dest="fits", action="store_const", const="load",
                       help="score the saved fits of every split instead of refitting (seconds, not hours)")
    p.add_argument("--jobs", type=int, default=1,
                   help="fit this many seeds at once in worker processes, one core each (default: 1)")
    p.add_argument("--conformal", action="store_true",
                   help="only the 90%% conformal Tc intervals (SuperCon, 3DSC): refit without a calibration tenth of "
                        "each training part, report test coverage and width; the other stored results are kept")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("train", help="train a model family and write its checkpoint")
    p.add_argument("name", choices=models.registered() + ["all"], help="a model, or all: every trained model")
    p.add_argument("--skip-evaluation", action="store_true", help="write the checkpoint only")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("models", help="list the trained models")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("pools", help="store the trained models' predictions on the bundled pools, which screening "
                                     "reads instead of predicting them (after each retraining; make pools)")
    p.add_argument("--models", type=_comma_list(), help="comma-separated (default: every trained model)")
    p.add_argument("--pools", type=_comma_list(tuple(screening.POOLS)), default=tuple(screening.POOLS),
                   help=f"comma-separated among {','.join(screening.POOLS)} (default: all; structure models only "
                        "predict those with crystal structures)")
    p.set_defaults(func=cmd_pools)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the `sc` command; returns the exit code (2 for unusable input)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (InputError, checkpoints.CheckpointError, DataIntegrityError, OSError) as exc:
        print(f"sc: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
