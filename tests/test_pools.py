"""sc_core.io.read_pool: one reader for CSV tables, zips, folders and single structure files, within limits."""

import io
import struct
import time
import zipfile

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp import Poscar

from sc_core import io as sc_io
from sc_core.io import POOL_COLUMNS, InputError, read_pool, structure_to_cif

NACL = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
CIF = structure_to_cif(NACL)
POSCAR = Poscar(NACL).get_str()
LAYOUT = {  # member or relative path → content; the last four are not structure files
    "sub/NaCl.cif": CIF, "POSCAR_1": POSCAR, "CONTCAR": POSCAR, "deep/er/x.vasp": POSCAR, "y.poscar": POSCAR,
    "__MACOSX/sub/._NaCl.cif": "resource fork", ".hidden.cif": CIF, ".git/a.cif": CIF, "readme.txt": "notes",
}
STRUCTURE_IDS = ["sub/NaCl.cif", "POSCAR_1", "CONTCAR", "deep/er/x.vasp", "y.poscar"]


def zipped(members: dict[str, str | bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def patched(content: bytes, name: str, field: str, value: int) -> bytes:
    """The zip with one header field of member `name` set to `value` in both its local and central headers."""
    local, central, fmt = {"flags": (6, 8, "<H"), "method": (8, 10, "<H"), "size": (22, 24, "<I")}[field]
    data = bytearray(content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        struct.pack_into(fmt, data, archive.getinfo(name).header_offset + local, value)
        pos = archive.start_dir
    while data[pos : pos + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46 : pos + 46 + n].decode() == name:
            struct.pack_into(fmt, data, pos + central, value)
        pos += 46 + n + m + k
    return bytes(data)


def corrupted(content: bytes, name: str) -> bytes:
    """The zip with the compressed data of member `name` overwritten by garbage (headers intact)."""
    data = bytearray(content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        info = archive.getinfo(name)
    n, m = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + n + m
    data[start : start + info.compress_size] = bytes((7 * i + 3) % 256 for i in range(info.compress_size))
    return bytes(data)


def hostile_zip() -> bytes:
    """NaCl.cif, plus an encrypted, an imploded, a corrupt member and a zip bomb (8 MB of zeros)."""
    plain = {name: CIF for name in ("NaCl.cif", "locked.cif", "imploded.cif", "corrupt.cif")}
    content = zipped({**plain, "bomb.cif": b"\0" * 8 * 2**20})
    content = patched(content, "locked.cif", "flags", 0x1)
    content = patched(content, "imploded.cif", "method", 6)  # 6: implode, an old PKWARE method
    return corrupted(content, "corrupt.cif")


def test_csv_rows_ids_and_carried_columns():
    pool = read_pool("pool.csv", b"id,formula,note,error\na,MgB2,x,old\nb,Xx2,y,old\n")
    assert list(pool.columns) == [*POOL_COLUMNS, "note"]  # the CSV's own 'error' column is not carried
    assert pool["id"].tolist() == ["a", "b"] and pool["formula"].tolist() == ["MgB2", "Xx2"]
    assert pool["note"].tolist() == ["x", "y"] and pool["structure"].isna().all() and (pool["error"] == "").all()
    no_ids = read_pool("pool.csv", b"formula\nNb3Sn\n")
    assert no_ids["id"].tolist() == ["Nb3Sn"]


def test_zip_and_folder_give_the_same_rows(tmp_path):
    from_zip = read_pool("set.zip", zipped(LAYOUT))
    for name, content in LAYOUT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    from_folder = read_pool(str(tmp_path))
    assert list(from_zip.columns) == list(from_folder.columns) == list(POOL_COLUMNS)
    assert from_zip["id"].tolist() == STRUCTURE_IDS  # archive order; hidden, __MACOSX and other files skipped
    assert from_folder["id"].tolist() == sorted(STRUCTURE_IDS)
    for pool in (from_zip, from_folder):
        assert (pool["error"] == "").all() and (pool["formula"] == "Na1Cl1").all()
        assert all(s.composition.reduced_formula == "NaCl" for s in pool["structure"])


def test_single_structure_file_upload_and_path(tmp_path):
    upload = read_pool("POSCAR", POSCAR.encode())
    assert upload["id"].tolist() == ["POSCAR"] and upload.loc[0, "formula"] == "Na1Cl1"
    (tmp_path / "in.cif").write_text(CIF)
    assert read_pool(str(tmp_path / "in.cif"))["id"].tolist() == ["in.cif"]


def test_hostile_members_are_error_rows():
    content = hostile_zip()
    assert len(content) < 100_000  # the bomb unpacks 8 MB from a few KB
    start = time.perf_counter()
    pool = read_pool("hostile.zip", content).set_index("id")
    assert time.perf_counter() - start < 5
    assert pool.loc["NaCl.cif", "error"] == "" and pool.loc["NaCl.cif", "formula"] == "Na1Cl1"
    assert "encrypted" in pool.loc["locked.cif", "error"]
    assert "implode" in pool.loc["imploded.cif", "error"]
    assert "damaged" in pool.loc["corrupt.cif", "error"]
    assert "8.0 MB unpacked; the limit is 5 MB" in pool.loc["bomb.cif", "error"]
    assert pool.drop(index="NaCl.cif")["structure"].isna().all()


def test_a_lying_size_header_is_not_believed():
    content = patched(zipped({"NaCl.cif": CIF, "liar.cif": b"\0" * 6 * 2**20}), "liar.cif", "size", 100)
    pool = read_pool("liar.zip", content).set_index("id")
    assert pool.loc["NaCl.cif", "error"] == "" and pool.loc["liar.cif", "error"]


def test_bytes_are_counted_while_reading(monkeypatch):
    monkeypatch.setattr(sc_io, "MAX_TOTAL_BYTES", 3 * 2**20)

    def member(name: str, content: bytes) -> sc_io._Member:  # declares 10 bytes whatever it holds
        return sc_io._Member(name, 10, lambda: io.BytesIO(content))

    pool = sc_io._structure_pool([member("big.cif", b" " * 6 * 2**20), member("ok.cif", CIF.encode())], "test")
    assert "more than its stated size" in pool.loc[0, "error"] and pool.loc[1, "formula"] == "Na1Cl1"
    with pytest.raises(InputError, match="more than their stated sizes"):
        sc_io._structure_pool([member(f"{i}.cif", b" " * 2 * 2**20) for i in range(2)], "test")


def test_total_unpacked_size_is_checked_up_front(monkeypatch):
    monkeypatch.setattr(sc_io, "MAX_TOTAL_BYTES", 2**20)
    monkeypatch.setattr(sc_io, "read_structure", lambda *_, **__: pytest.fail("a member was read"))
    content = zipped({f"{i}.cif": b" " * 400_000 for i in range(3)})
    with pytest.raises(InputError, match="add up to 1.2 MB unpacked; the limit is 1 MB"):
        read_pool("many.zip", content)


def test_member_count_is_bounded(monkeypatch, tmp_path):
    monkeypatch.setattr(sc_io, "MAX_MEMBERS", 3)
    with pytest.raises(InputError, match="more than 3 files"):
        read_pool("many.zip", zipped({f"{i}.cif": CIF for i in range(4)}))
    for i in range(4):
        (tmp_path / f"{i}.cif").write_text(CIF)
    with pytest.raises(InputError, match="more than 3 structure files"):
        read_pool(str(tmp_path))


def test_upload_size_and_csv_rows_are_bounded(monkeypatch, tmp_path):
    monkeypatch.setattr(sc_io, "MAX_CSV_ROWS", 3)
    with pytest.raises(InputError, match="more than 3 rows"):
        read_pool("pool.csv", b"formula\nMgB2\nNaCl\nKCl\nFeSe\n")
    assert len(read_pool("pool.csv", b"formula\nMgB2\nNaCl\nKCl\n")) == 3
    monkeypatch.setattr(sc_io, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(InputError, match="'pool.csv' is 0.1 MB"):
        read_pool("pool.csv", b"formula\n" + b"MgB2\n" * 40)
    big = tmp_path / "big.csv"
    big.write_bytes(b"formula\n" + b"MgB2\n" * 40)
    with pytest.raises(InputError, match="'big.csv' is 0.1 MB"):
        read_pool(str(big))


@pytest.mark.parametrize("name, content, message", [
    ("x.csv", b"name\nMgB2\n", "needs a 'formula' column"),
    ("x.csv", b"", "Could not read 'x.csv' as a CSV table"),
    ("x.csv", b"formula\n", "has no rows"),
    ("x.zip", b"not a zip", "not a readable zip archive"),
    ("x.zip", b"PK\x05\x06" + b"\x00" * 18, "Found no CIF/POSCAR files"),
    ("x" * 500 + ".csv", b"name\nMgB2\n", r"'x{28}…x{6}\.csv \(504 characters\)' needs"),
])
def test_unreadable_pools_are_explained_briefly(name, content, message):
    with pytest.raises(InputError, match=message) as error:
        read_pool(name, content)
    assert len(str(error.value)) < 200
