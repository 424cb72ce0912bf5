"""Turn user text (formulas, CIF, POSCAR) into pymatgen objects.

Every problem with user input is raised as :class:`InputError`, whose message is meant to be shown
to a chemist as is.

Formula conventions (see :func:`parse_formula`):

* Fractional and doped amounts (``Ba0.6K0.4Fe2As2``), round and square brackets, nesting.
* A polytype prefix is dropped: ``1T-TaS2`` and ``2H-NbSe2`` read as ``TaS2`` and ``NbSe2``.
* ``D`` and ``T`` are read as hydrogen (pymatgen's convention).
* Whitespace inside a formula is ignored (``Ba Fe2 As2``).
* Rejected: charges/oxidation states (``Fe2+``), hydrate/adduct notation (``NaCl.H2O``,
  ``CuSO4·5H2O``), amounts without a leading digit (``Fe.5``), leading coefficients (``2H2O``),
  scientific notation (``Fe1e2``), zero or negative amounts and amounts above :data:`MAX_AMOUNT`.
  ``CuSO4.5H2O`` cannot be told apart from a decimal and reads as ``CuSO4.5`` + ``H2O``.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import PurePath

from pymatgen.core import Composition, Element, Structure
from pymatgen.core.periodic_table import DummySpecies
from pymatgen.io.cif import CifParser, CifWriter
from pymatgen.io.vasp import Poscar

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_SITES = 500
MAX_AMOUNT = 1e4
OCCUPANCY_TOLERANCE = 1.05  # site occupancies up to this are rounding noise and scaled to 1

_TOKEN = re.compile(r"(?P<symbol>[A-Z][a-z]*)|(?P<open>[(\[])|(?P<close>[)\]])|(?P<number>\d+(?:\.\d+)?)")
_POLYTYPE = re.compile(r"^\d+[A-Z][a-z]?'?-(?=[A-Z(\[])")
_CIF_MARKER = re.compile(r"^\s*data_|_cell_length_a", re.MULTILINE)
_MP_ID = re.compile(r"(mp|mvc)-\d+", re.IGNORECASE)
_BRACKET_PAIRS = {"(": ")", "[": "]"}
_SYMBOLS = frozenset(Element.__members__)
_CELL_TAGS = (
    "_cell_length_a",
    "_cell_length_b",
    "_cell_length_c",
    "_cell_angle_alpha",
    "_cell_angle_beta",
    "_cell_angle_gamma",
)


class InputError(ValueError):
    """Bad user input; the message is written for the user."""


def parse_formula(text: str) -> Composition:
    """Parse a chemical formula such as ``YBa2Cu3O6.95`` or ``Ca10(Ir4As8)(Fe2As2)5``."""
    original = text.strip()
    if not original:
        raise InputError("The formula is empty.")
    formula = re.sub(r"\s+", "", _POLYTYPE.sub("", original))
    composition = Composition(_amounts(formula, original))
    for element, amount in composition.items():
        if amount > MAX_AMOUNT:
            raise InputError(
                f"The amount of {element} in '{original}' is {amount:g}; the limit is {MAX_AMOUNT:g}."
            )
    return composition


def _amounts(formula: str, original: str) -> dict[str, float]:
    """Symbol → amount with brackets expanded, in one validating pass; InputError on any problem."""
    groups: list[dict[str, float]] = [{}]  # one dict per open bracket level, plus the top level
    open_brackets: list[str] = []
    previous_kind, previous_token = "", ""
    pending = None  # last symbol or closed group, waiting for an optional amount
    pos = 0
    while pos < len(formula):
        match = _TOKEN.match(formula, pos)
        if match is None:
            raise InputError(_bad_character_message(formula, pos, original))
        kind, token = match.lastgroup, match.group()
        if kind == "number":
            if previous_kind not in ("symbol", "close"):
                raise InputError(f"'{original}' is not a chemical formula: the number '{token}' does not follow an element.")
            amount = float(token)
            if amount == 0:
                where = previous_token if previous_kind == "symbol" else "a bracketed group"
                raise InputError(f"Amounts must be positive: '{original}' has a zero amount for {where}.")
            _flush(groups[-1], pending, amount)
            pending = None
        else:
            _flush(groups[-1], pending, 1.0)
            pending = None
            if kind == "symbol":
                if token not in _SYMBOLS:
                    raise InputError(f"Unknown element '{token}' in '{original}'.")
                pending = token
            elif kind == "open":
                open_brackets.append(token)
                groups.append({})
            else:
                if not open_brackets or _BRACKET_PAIRS[open_brackets.pop()] != token:
                    raise InputError(f"The brackets in '{original}' do not match.")
                inner = groups.pop()
                if not inner:
                    problem = "has empty brackets" if re.search("[A-Z]", formula) else "contains no elements"
                    raise InputError(f"'{original}' {problem}.")
                pending = inner
        previous_kind, previous_token = kind, token
        pos = match.end()
    if open_brackets:
        raise InputError(f"The brackets in '{original}' do not match.")
    _flush(groups[-1], pending, 1.0)
    return groups[0]


def _flush(group: dict[str, float], pending, amount: float) -> None:
    if pending is None:
        return
    if isinstance(pending, str):
        group[pending] = group.get(pending, 0.0) + amount
    else:
        for symbol, inner in pending.items():
            group[symbol] = group.get(symbol, 0.0) + inner * amount


def _bad_character_message(formula: str, pos: int, original: str) -> str:
    """Explain why the character at `pos` cannot start a formula token."""
    char, preceding, following = formula[pos], formula[pos - 1 : pos], formula[pos + 1 : pos + 2]
    if char == "-" and pos > 0 and following.isdigit():
        return f"Amounts must be positive: '{original}' has a negative amount."
    if char == "+" or (char == "-" and not following):
        return f"Charges and oxidation states are not supported: remove the '{char}' from '{original}'."
    if char in "·•*" or (char == "." and (preceding.isalpha() or preceding in (")", "]"))):
        return (
            f"Hydrate/adduct notation ('{char}') is not supported in '{original}'; "
            "write it as one formula with the amounts added up."
        )
    if pos == 0:
        return f"'{original}' is not a chemical formula."
    return f"'{original}' is not a chemical formula: unexpected '{char}'."


def read_structure(data: str | bytes, filename: str | None = None, fmt: str | None = None) -> Structure:
    """Read a crystal structure from CIF or POSCAR text.

    `fmt` is ``"cif"``, ``"poscar"`` or None to guess from `filename`, then from the content.
    Partial occupancies are kept; of several structures in a CIF the first is returned.
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise InputError(f"The file is {_megabytes(size)} MB; the limit is {MAX_FILE_BYTES // 2**20} MB.")
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    if not text.strip():
        raise InputError("The file is empty.")
    fmt = (fmt or _guess_format(text, filename)).lower()
    if fmt == "cif":
        structure = _read_cif(text)
    elif fmt == "poscar":
        structure = _read_poscar(text)
    else:
        raise ValueError(f"fmt must be 'cif', 'poscar' or None, not {fmt!r}")

    for site in structure:
        for species in site.species:
            if isinstance(species, DummySpecies):
                raise InputError(f"Unknown element '{species.symbol}' in the structure.")
    if len(structure) > MAX_SITES:
        raise InputError(f"The structure has {len(structure)} sites; the limit is {MAX_SITES}.")
    return structure


def _megabytes(size: int) -> str:
    """Size in MB rounded up to one decimal, so a file just over the limit never shows as the limit."""
    return f"{math.ceil(size / 2**20 * 10) / 10:.1f}"


def _guess_format(text: str, filename: str | None) -> str:
    """'cif' or 'poscar', from the file name if it tells, else from the content."""
    if filename:
        name = PurePath(filename).name
        if name.lower().endswith(".cif"):
            return "cif"
        if name.lower().endswith(".vasp") or name.upper().startswith(("POSCAR", "CONTCAR")):
            return "poscar"
    return "cif" if _CIF_MARKER.search(text) else "poscar"


def _read_cif(text: str) -> Structure:
    """First structure of a CIF, with pymatgen's warnings silenced."""
    prefix = "Could not read a crystal structure from this CIF"
    lowered = text.lower()  # CIF tags are case-insensitive
    missing_cell_tags = [tag for tag in _CELL_TAGS if tag not in lowered]
    if len(missing_cell_tags) == len(_CELL_TAGS):
        raise InputError(f"{prefix}: it has no unit cell (no _cell_length_a, _cell_angle_alpha, ...).")
    if "_atom_site_fract_x" not in lowered and "_atom_site_cartn_x" not in lowered:
        raise InputError(f"{prefix}: it contains no atomic sites.")
    if missing_cell_tags:
        raise InputError(f"{prefix}: the unit cell is incomplete ({', '.join(missing_cell_tags)} missing).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parser = CifParser.from_str(text, occupancy_tolerance=OCCUPANCY_TOLERANCE)
            structures = parser.parse_structures(primitive=False, on_error="raise")
    except Exception as exc:  # pymatgen raises many types (ValueError, KeyError, IndexError...)
        raise InputError(f"{prefix}: {_short_reason(exc)}") from exc
    return structures[0]


def _read_poscar(text: str) -> Structure:
    """Structure from POSCAR/CONTCAR text; the element-symbol line is required."""
    prefix = "Could not read a crystal structure from this POSCAR"
    lines = text.rstrip().splitlines()
    if len(lines) > 5 and "".join(lines[5].split()).isdigit():  # counts where the symbols belong
        raise InputError(f"{prefix}: it has no line of element symbols above the atom counts.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Poscar.from_str(text, read_velocities=False).structure
    except Exception as exc:  # pymatgen raises many types (ValueError, IndexError...)
        raise InputError(f"{prefix}: {_short_reason(exc)}") from exc


def _short_reason(exc: Exception) -> str:
    """One short line explaining a pymatgen parsing failure."""
    message = str(exc)
    occupancy = re.search(r"Occupancy ([\d.]+) exceeded tolerance", message)
    if occupancy:
        return f"a site has a total occupancy of {occupancy.group(1)}, more than 1."
    if isinstance(exc, IndexError):
        return "the file is incomplete or not in the expected layout."
    last_line = message.strip().splitlines()[-1] if message.strip() else type(exc).__name__
    missing_field = re.fullmatch(r"'(_\w+)'", last_line)  # pymatgen's KeyError for a missing CIF field
    if missing_field:
        return f"the field {missing_field.group(1)} is missing or unreadable."
    return last_line[:150]


def structure_to_cif(structure: Structure) -> str:
    """CIF text for `structure` (partial occupancies are written out, site labels made unique)."""
    labelled = structure.copy()
    labelled.relabel_sites()
    return str(CifWriter(labelled))


def is_mp_id(text: str) -> bool:
    """True for Materials Project ids such as ``mp-149`` or ``mvc-12``."""
    return _MP_ID.fullmatch(text.strip()) is not None


def parse_input(text: str) -> Composition | Structure:
    """Read the app's single text box: a pasted CIF/POSCAR becomes a Structure, anything else a formula."""
    return read_structure(text) if _looks_like_structure(text) else parse_formula(text)


def _looks_like_structure(text: str) -> bool:
    """Multi-line text with CIF markers, or at least 8 lines with a POSCAR lattice block."""
    lines = text.rstrip().splitlines()
    if len(lines) < 2:
        return False
    if _CIF_MARKER.search(text):
        return True
    return len(lines) >= 8 and all(_is_vector(line) for line in lines[2:5])


def _is_vector(line: str) -> bool:
    """True if the line starts with three numbers."""
    parts = line.split()[:3]
    return len(parts) == 3 and all(_is_number(part) for part in parts)


def _is_number(text: str) -> bool:
    """True if `text` parses as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- pools: a CSV of formulas, or CIF/POSCAR files in a zip, a folder or one file ----------------
# (imports of this section kept here so that it merges apart from the code above)
import itertools  # noqa: E402
import lzma  # noqa: E402
import struct  # noqa: E402
import zipfile  # noqa: E402
import zlib  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from functools import partial  # noqa: E402
from io import BytesIO  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import BinaryIO  # noqa: E402

import pandas as pd  # noqa: E402

MAX_UPLOAD_BYTES = 50 * 2**20  # a CSV or zip file as given
MAX_CSV_ROWS = 200_000
MAX_MEMBERS = 20_000  # entries of a zip, structure files of a folder
MAX_MEMBER_BYTES = MAX_FILE_BYTES  # one structure file, decompressed
MAX_TOTAL_BYTES = 200 * 2**20  # all structure files of a zip or folder, decompressed
STRUCTURE_SUFFIXES = (".cif", ".vasp", ".poscar")
STRUCTURE_PREFIXES = ("POSCAR", "CONTCAR")
POOL_COLUMNS = ("id", "formula", "structure", "error")  # then the carried columns of a CSV
_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_UNPACK_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, struct.error, EOFError, OSError, ValueError,
                  NotImplementedError, RuntimeError)  # what zipfile raises for damaged or unusual members


@dataclass(frozen=True)
class _Member:
    """A structure file to read: its id, its declared size, how to open it, a problem known up front."""

    id: str
    size: int
    open: Callable[[], BinaryIO]
    problem: str = ""


def is_structure_name(name: str) -> bool:
    """True for CIF/POSCAR file names (.cif, .vasp, .poscar, POSCAR*, CONTCAR*), not hidden, not in __MACOSX."""
    path = PurePath(name)
    if any(part.startswith(".") or part == "__MACOSX" for part in path.parts):
        return False
    return path.name.lower().endswith(STRUCTURE_SUFFIXES) or path.name.upper().startswith(STRUCTURE_PREFIXES)


def read_pool(name: str, content: bytes | None = None) -> pd.DataFrame:
    """Rows of a pool: a CSV with a 'formula' column, a zip or folder of CIF/POSCAR files, or one such file.

    `content` holds the bytes of an upload called `name`; without it `name` is a file or folder on disk.
    Columns: :data:`POOL_COLUMNS` (structure None for formulas and unreadable files; error '' if read),
    then the CSV's other columns. Ids come from an 'id' column, else the formula text, or are the file's
    path inside the zip or folder. A file that cannot be read is a row with its error; a pool that cannot
    be read at all (or breaks a limit) raises InputError.
    """
    label = _short_name(name)
    if content is None:
        path = Path(name)
        if path.is_dir():
            return _structure_pool(_folder_members(path), f"the folder {label}")
        if not path.is_file():
            raise InputError(f"Cannot read {label}: it is not a regular file or folder.")
        if not name.lower().endswith((".csv", ".zip")):
            return _structure_pool([_Member(path.name, path.stat().st_size, partial(path.open, "rb"))], label)
        content = _read_upload(path)
    if len(content) > MAX_UPLOAD_BYTES:
        raise InputError(f"The file {label} is {_megabytes(len(content))} MB; "
                         f"the limit is {MAX_UPLOAD_BYTES // 2**20} MB.")
    if name.lower().endswith(".csv"):
        return _csv_pool(content, label)
    if name.lower().endswith(".zip"):
        return _structure_pool(_zip_members(content, label), label)
    return _structure_pool([_Member(PurePath(name).name, len(content), partial(BytesIO, content))], label)


def _short_name(name: str) -> str:
    """A file name as quoted in messages: its last part, cut to 60 characters."""
    base = PurePath(name).name or name
    return base if len(base) <= 60 else base[:57] + "..."


def _read_upload(path: Path) -> bytes:
    """The bytes of a CSV or zip on disk, refused before reading if larger than MAX_UPLOAD_BYTES."""
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise InputError(f"The file {_short_name(path.name)} is {_megabytes(size)} MB; "
                         f"the limit is {MAX_UPLOAD_BYTES // 2**20} MB.")
    with path.open("rb") as stream:
        return stream.read(MAX_UPLOAD_BYTES + 1)


def _csv_pool(content: bytes, label: str) -> pd.DataFrame:
    """Pool rows of a CSV table with a 'formula' column (at most MAX_CSV_ROWS)."""
    try:
        table = pd.read_csv(BytesIO(content), dtype={"id": str, "formula": str}, nrows=MAX_CSV_ROWS + 1)
    except ValueError as exc:  # pandas' parser, empty-file and decoding errors are all ValueErrors
        raise InputError(f"Could not read {label} as a CSV table ({str(exc).strip()[:150]}).") from exc
    if "formula" not in table.columns:
        columns = ", ".join(str(c)[:30] for c in table.columns[:10]) or "none"
        raise InputError(f"The table {label} needs a 'formula' column; its columns are: {columns}.")
    if len(table) > MAX_CSV_ROWS:
        raise InputError(f"The table {label} has more than {MAX_CSV_ROWS:,} rows, the limit; "
                         "split it into smaller files.")
    if table.empty:
        raise InputError(f"The table {label} has no rows.")
    formulas = table["formula"].fillna("")
    carried = table.drop(columns=list(POOL_COLUMNS), errors="ignore")
    ids = table["id"].fillna("") if "id" in table.columns else formulas
    return pd.concat([pd.DataFrame({"id": ids, "formula": formulas, "structure": None, "error": ""}), carried],
                     axis=1)


def _zip_members(content: bytes, label: str) -> list[_Member]:
    """The structure files of a zip archive, with encrypted and oddly compressed ones flagged up front."""
    if content.count(b"PK\x01\x02") > MAX_MEMBERS:  # central directory entries, counted before parsing them
        raise InputError(f"The archive {label} holds more than {MAX_MEMBERS:,} files, the limit.")
    try:
        archive = zipfile.ZipFile(BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(f"The file {label} is not a readable zip archive.") from exc
    return [_Member(info.filename, info.file_size, partial(archive.open, info), _zip_problem(info))
            for info in archive.infolist() if not info.is_dir() and is_structure_name(info.filename)]


def _zip_problem(info: zipfile.ZipInfo) -> str:
    """Why a zip member cannot be unpacked, or ''."""
    if info.flag_bits & 0x1:
        return "This file is encrypted (password-protected) in the archive; zip it again without a password."
    if info.compress_type not in _ZIP_METHODS:
        return ("This file is compressed with a method that cannot be unpacked here (such as 'implode'); "
                "zip it again with ordinary (deflate) compression.")
    return ""


def _folder_members(folder: Path) -> list[_Member]:
    """The structure files under `folder` in path order; ids are paths relative to it."""
    found = (p for p in folder.rglob("*") if is_structure_name(p.relative_to(folder).as_posix()) and p.is_file())
    paths = list(itertools.islice(found, MAX_MEMBERS + 1))
    if len(paths) > MAX_MEMBERS:
        raise InputError(f"The folder {_short_name(str(folder))} holds more than {MAX_MEMBERS:,} structure files, "
                         "the limit.")
    return [_Member(p.relative_to(folder).as_posix(), p.stat().st_size, partial(p.open, "rb")) for p in sorted(paths)]


def _structure_pool(members: list[_Member], label: str) -> pd.DataFrame:
    """One pool row per structure file, read one at a time within the size limits."""
    if not members:
        raise InputError(f"Found no CIF/POSCAR files (.cif, .vasp, .poscar, POSCAR*, CONTCAR*) in {label}.")
    if len(members) > MAX_MEMBERS:
        raise InputError(f"There are {len(members):,} structure files in {label}; the limit is {MAX_MEMBERS:,}.")
    limit = f"the limit is {MAX_TOTAL_BYTES // 2**20} MB"
    declared = sum(m.size for m in members if not m.problem and m.size <= MAX_MEMBER_BYTES)
    if declared > MAX_TOTAL_BYTES:
        raise InputError(f"The structure files in {label} add up to {_megabytes(declared)} MB unpacked; {limit}.")
    rows, total = [], 0
    for member in members:
        try:
            blob = _read_member(member)
        except InputError as exc:
            rows.append({"id": member.id, "formula": "", "structure": None, "error": str(exc)})
            continue
        total += len(blob)
        if total > MAX_TOTAL_BYTES:  # the sizes in a zip's headers can lie
            raise InputError(f"The structure files in {label} add up to more than their stated sizes "
                             f"unpacked; {limit}.")
        rows.append(_structure_row(member.id, blob))
    return pd.DataFrame(rows, columns=list(POOL_COLUMNS))


def _read_member(member: _Member) -> bytes:
    """The bytes of one structure file; no more than MAX_MEMBER_BYTES + 1 of them are ever read."""
    limit = f"the limit is {MAX_MEMBER_BYTES // 2**20} MB"
    if member.problem:
        raise InputError(member.problem)
    if member.size > MAX_MEMBER_BYTES:
        raise InputError(f"The file is {_megabytes(member.size)} MB unpacked; {limit}.")
    try:
        with member.open() as stream:
            blob = stream.read(MAX_MEMBER_BYTES + 1)
    except _UNPACK_ERRORS as exc:
        raise InputError("The file is damaged and could not be unpacked or read.") from exc
    if len(blob) > MAX_MEMBER_BYTES:
        raise InputError(f"The file unpacks to more than its stated size and {limit}.")
    return blob


def _structure_row(member_id: str, blob: bytes) -> dict:
    """The pool row of one structure file's bytes; unreadable content becomes the row's error."""
    try:
        structure = read_structure(blob, filename=member_id)
    except InputError as exc:
        return {"id": member_id, "formula": "", "structure": None, "error": str(exc)}
    return {"id": member_id, "formula": structure.composition.formula.replace(" ", ""), "structure": structure,
            "error": ""}
