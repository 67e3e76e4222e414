"""Tiles are C2SP tlog-tiles byte for byte: the writer reproduces Go's vector files at their
paths, the reader rebuilds the vector roots from them, and bad paths or tiles are refused."""

from __future__ import annotations

import base64
import itertools
import json
import os
from pathlib import Path

import pytest

from ledger import merkle, tiles
from ledger.merkle import InvalidProof
from ledger.tiles import (
    Tile,
    TileWriter,
    format_index,
    new_tiles,
    parse_tile_path,
    root_from_tiles,
    tile_bytes,
    tiles_for_size,
)

# Vendored from an independent implementation (Go's sumdb/tlog); see vectors/README.md.
VECTORS = Path(__file__).resolve().parent / "vectors" / "tlog-tiles"
DOC = json.loads((VECTORS / "tiles.json").read_text(encoding="utf-8"))
SIZES = sorted(int(s) for s in DOC["roots"])


@pytest.fixture(scope="module")
def stored():
    """The stored hashes (Go tlog layout) of the vector log's 70,000 entries."""
    hashes: list[bytes] = []
    read = _reader(hashes)
    for i in range(max(SIZES)):
        leaf = merkle.leaf_hash(f"coop tile vector {i}".encode())
        hashes += merkle.stored_hashes_for_leaf(i, leaf, read)
    return hashes


def _reader(stored):
    return lambda indexes: [stored[i] for i in indexes]


def test_index_paths_follow_the_spec():
    assert format_index(0) == "000"
    assert format_index(67) == "067"
    assert format_index(1234067) == "x001/x234/067"
    assert Tile(0, 1234067, 5).path == "tile/0/x001/x234/067.p/5"
    for tile in [Tile(0, 0), Tile(2, 1000), Tile(1, 1234067, 17), Tile(63, 5, 255)]:
        assert parse_tile_path(tile.path) == tile


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",
        "tile/0/0000",
        "tile/00/000",
        "tile/64/000",
        "tile/0/x000/001",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/07",
        "tile/0/001/x234",
        "tile/entries/000",
        "tile/0",
        "tile/0/../000",
    ],
)
def test_non_canonical_paths_are_refused(path):
    with pytest.raises(ValueError):
        parse_tile_path(path)


def test_every_vector_file_is_reproduced(stored):
    files = [p for p in (VECTORS / "tile").rglob("*") if p.is_file()]
    assert len(files) == len(set(DOC["paths"])) > 600
    for file in files:
        rel = file.relative_to(VECTORS).as_posix()
        tile = parse_tile_path(rel)
        assert tile_bytes(tile, _reader(stored)) == file.read_bytes(), rel


def test_writer_writes_the_vector_bytes_at_the_vector_paths(tmp_path, stored):
    writer = TileWriter(tmp_path)
    for size in SIZES:
        writer.write(size, _reader(stored))
        assert writer.written_size == size
        for tile in tiles_for_size(size):
            assert tile.path in DOC["paths"]
            assert writer.read(tile.path) == (VECTORS / tile.path).read_bytes(), tile.path
    assert not list(tmp_path.rglob(".tmp-*"))


def test_full_tiles_are_never_rewritten(tmp_path, stored):
    writer = TileWriter(tmp_path)
    writer.write(256, _reader(stored))
    full = tmp_path / "tile/0/000"
    before = full.stat()
    written = writer.write(257, _reader(stored))
    assert Tile(0, 0) not in written
    assert [t.path for t in written] == ["tile/0/001.p/1"]  # tile/1/000.p/1 came with 256
    assert full.stat().st_mtime_ns == before.st_mtime_ns and full.stat().st_ino == before.st_ino


def test_a_failed_write_is_redone_and_a_new_writer_skips_what_is_on_disk(tmp_path, stored):
    def failing(indexes):
        raise OSError("disk full")

    writer = TileWriter(tmp_path)
    writer.write(300, _reader(stored))
    with pytest.raises(OSError):
        writer.write(600, failing)
    assert writer.written_size == 300
    assert [t.path for t in writer.write(600, _reader(stored))] == [
        "tile/0/001",
        "tile/0/002.p/88",
        "tile/1/000.p/2",
    ]
    # Another process's writer starts from 0: it writes only the edge that is missing.
    assert [t.path for t in TileWriter(tmp_path).write(601, _reader(stored))] == ["tile/0/002.p/89"]


def test_tiles_are_public_whatever_the_umask(tmp_path, stored):
    old = os.umask(0o077)
    try:
        TileWriter(tmp_path).write(300, _reader(stored))
    finally:
        os.umask(old)
    modes = {f.relative_to(tmp_path).as_posix(): f.stat().st_mode & 0o777 for f in _files(tmp_path)}
    assert modes == {"tile/0/000": 0o644, "tile/0/001.p/44": 0o644, "tile/1/000.p/1": 0o644}


def test_a_temporary_file_left_by_a_killed_writer_does_not_block_the_next(
    tmp_path, stored, monkeypatch
):
    # A killed process with this id and tag left the name this writer would take next.
    monkeypatch.setattr(tiles, "_TEMPORARY", itertools.count(7))
    left = tmp_path / "tile/0/000.p" / f".tmp-{os.getpid()}-{tiles._TAG}-7"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"half a tile")
    written = TileWriter(tmp_path).write(3, _reader(stored))
    assert [t.path for t in written] == ["tile/0/000.p/3"]
    assert (tmp_path / "tile/0/000.p/3").read_bytes() == b"".join(_reader(stored)([0, 1, 3]))
    assert left.read_bytes() == b"half a tile"  # not ours to remove: another writer's name


def _files(folder: Path) -> list[Path]:
    return [f for f in folder.rglob("*") if f.is_file()]


def test_new_tiles_only_adds_the_grown_edge():
    assert new_tiles(255, 256) == [Tile(0, 0), Tile(1, 0, 1)]
    assert new_tiles(256, 256) == []
    assert new_tiles(70000, 70000) == []
    assert tiles_for_size(1) == [Tile(0, 0, 1)]
    assert tiles_for_size(65536) == [Tile(0, i) for i in range(256)] + [Tile(1, 0), Tile(2, 0, 1)]


@pytest.mark.parametrize("size", SIZES)
def test_reader_rebuilds_the_vector_roots(size):
    root = root_from_tiles(size, lambda path: (VECTORS / path).read_bytes())
    assert base64.b64encode(root).decode() == DOC["roots"][str(size)]


def test_reader_agrees_with_the_tree_at_every_small_size(tmp_path, stored):
    writer = TileWriter(tmp_path)
    for size in range(1, 600):
        writer.write(size, _reader(stored))
        want = merkle.tree_hash(size, _reader(stored))
        assert root_from_tiles(size, writer.read) == want, size


def test_a_changed_tile_changes_the_root_and_a_short_one_is_refused():
    def tampered(path):
        data = bytearray((VECTORS / path).read_bytes())
        if path == "tile/0/273.p/112":
            data[0] ^= 1
        return bytes(data)

    root = base64.b64decode(DOC["roots"]["70000"])
    assert root_from_tiles(70000, tampered) != root
    with pytest.raises(InvalidProof):
        root_from_tiles(70000, lambda path: (VECTORS / path).read_bytes()[:-1])
