"""C2SP tlog-tiles: hash tiles of the Merkle tree, written as files anyone may mirror.

A tile at level L holds up to 256 consecutive hashes of the tree's nodes at height 8·L (level 0:
leaf hashes). Tile N of level L covers nodes N·256 .. N·256+255; a *partial* tile, for the right
edge, holds the first W < 256 of them. Paths follow c2sp.org/tlog-tiles: ``tile/<L>/<N>`` and
``tile/<L>/<N>.p/<W>``, with N written in zero-padded groups of three digits, all but the last
prefixed with ``x`` (1234067 -> ``x001/x234/067``).

Full tiles never change, so they are written once and never rewritten; a partial tile's path
names its width, so its bytes never change either: no file is ever replaced. Files are written
to a temporary name and renamed, so a reader (or a static server, or a CDN) never sees half a
tile. Only hashes are in
tiles: the entries themselves, which carry pseudonyms and prices, stay private.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    InvalidProof,
    compact_push,
    compact_root,
    node_hash,
    stored_hash_index,
)

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "Tile",
    "TileWriter",
    "extend_from_tiles",
    "format_index",
    "frontier_from_tiles",
    "new_tiles",
    "parse_tile_path",
    "root_from_tiles",
    "tile_bytes",
    "tiles_for_size",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
# The spec allows levels 0..63; a deeper one could not belong to a tree of 2**64 leaves.
MAX_LEVEL = 63
_GROUP = re.compile(r"x[0-9]{3}")
_LAST = re.compile(r"[0-9]{3}")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")
# Names this process's temporary files: its id, a random tag (another container sharing the
# folder may reuse the id) and a counter.
_TEMPORARY = itertools.count()
_TAG = secrets.token_hex(4)

TileFetcher = Callable[[str], bytes]
StoredReader = Callable[[Sequence[int]], Sequence[bytes]]


@dataclass(frozen=True, order=True)
class Tile:
    """One hash tile: its level, index and width (256 when full)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def path(self) -> str:
        """Return the tile's path, ``tile/<L>/<N>[.p/<W>]``."""
        path = f"tile/{self.level}/{format_index(self.index)}"
        return path if self.full else f"{path}.p/{self.width}"

    def stored_indexes(self, start: int = 0) -> list[int]:
        """Return the stored-hash indexes (Go tlog layout) of the tile's hashes from start."""
        height, first = self.level * TILE_HEIGHT, self.index * TILE_WIDTH
        return [stored_hash_index(height, first + i) for i in range(start, self.width)]


def format_index(n: int) -> str:
    """Return a tile index in path form: groups of three digits, all but the last with 'x'."""
    if n < 0:
        raise ValueError("tile index must not be negative")
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


def parse_tile_path(path: str) -> Tile:
    """Parse ``tile/<L>/<N>[.p/<W>]`` (or the part after ``tile/``) into a Tile.

    Only the canonical spelling parses, so one tile has one path (and one cache entry).

    :raises ValueError: the path is not a hash tile's path.
    """
    parts = path.split("/")
    if parts and parts[0] == "tile":
        parts = parts[1:]
    if len(parts) < 2 or not re.fullmatch(r"0|[1-9][0-9]?", parts[0]):
        raise ValueError("not a hash tile path")
    level = int(parts[0])
    width = TILE_WIDTH
    if len(parts) >= 3 and parts[-2].endswith(".p"):
        if not _WIDTH.fullmatch(parts[-1]) or int(parts[-1]) >= TILE_WIDTH:
            raise ValueError("partial tile width must be 1 to 255")
        width = int(parts[-1])
        parts = parts[:-2] + [parts[-2][:-2]]
    groups = parts[1:]
    if level > MAX_LEVEL or not _LAST.fullmatch(groups[-1]):
        raise ValueError("not a hash tile path")
    if not all(_GROUP.fullmatch(g) for g in groups[:-1]) or (groups[0] == "x000"):
        raise ValueError("not a hash tile path")
    index = 0
    for group in groups:
        index = index * 1000 + int(group.lstrip("x"))
    return Tile(level, index, width)


def _level_count(size: int, level: int) -> int:
    """Return how many complete nodes of height 8·level a tree of size leaves has."""
    return size >> (TILE_HEIGHT * level)


def tiles_for_size(size: int) -> list[Tile]:
    """Return every tile of a tree of size leaves: full ones, and each level's partial one."""
    return new_tiles(0, size)


def new_tiles(old_size: int, new_size: int) -> list[Tile]:
    """Return the tiles a tree growing from old_size to new_size leaves adds (tlog.NewTiles)."""
    if not 0 <= old_size <= new_size:
        raise ValueError("tree sizes must satisfy 0 <= old <= new")
    tiles = []
    level = 0
    while (count := _level_count(new_size, level)) > 0:
        old_count = _level_count(old_size, level)
        # The tile holding the old right edge grows (or completes); later ones are new.
        for index in range(old_count // TILE_WIDTH, count // TILE_WIDTH):
            tiles.append(Tile(level, index))
        if count % TILE_WIDTH and count > old_count:
            tiles.append(Tile(level, count // TILE_WIDTH, count % TILE_WIDTH))
        level += 1
    return tiles


def tile_bytes(tile: Tile, read: StoredReader) -> bytes:
    """Return a tile's contents: its hashes, concatenated, read from the stored hashes."""
    return b"".join(read(tile.stored_indexes()))


class TileWriter:
    """Write a log's tiles into a folder, laid out as the spec's paths (``<folder>/tile/...``).

    Keep one per process: it remembers the size it last wrote, so each publication writes only
    the tiles that grew. A new writer starts from size 0 and skips the full tiles on disk.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.written_size = 0
        self._lock = threading.Lock()
        # Per level, (index, bytes) of the right edge's tile last written: the next partial
        # tile of that index only needs the hashes added since.
        self._edge: dict[int, tuple[int, bytes]] = {}

    def path_of(self, tile: Tile) -> Path:
        return self.folder / tile.path

    def write(self, size: int, read: StoredReader) -> list[Tile]:
        """Write the tiles of a tree of size leaves not yet written; return those written.

        read returns stored hashes by stored index (see ``merkle``) and must only ever see
        committed hashes below size. A tile already on disk is left as it is: a path names
        its bytes (a partial tile's path holds its width), so it can only hold these.
        """
        with self._lock:
            written = []
            root = str(self.folder)
            for tile in new_tiles(min(self.written_size, size), size):
                # Plain strings and os calls: with a publication per append, pathlib's objects
                # cost as much as the file system here.
                target = os.path.join(root, tile.path)
                if os.path.exists(target):
                    continue
                _write_file(target, self._bytes(tile, read))
                written.append(tile)
            self.written_size = max(self.written_size, size)
            return written

    def _bytes(self, tile: Tile, read: StoredReader) -> bytes:
        index, have = self._edge.get(tile.level, (-1, b""))
        if index != tile.index or len(have) > tile.width * HASH_SIZE:
            have = b""
        data = have + b"".join(read(tile.stored_indexes(len(have) // HASH_SIZE)))
        self._edge[tile.level] = (tile.index, data)
        return data

    def read(self, path: str) -> bytes:
        """Return the bytes of a written tile (for tests and local readers)."""
        return (self.folder / path).read_bytes()

def _write_file(target: str, data: bytes) -> None:
    """Write data to target through a temporary file renamed into place (never half a tile)."""
    folder = os.path.dirname(target)
    # Names of this process's own: mkstemp (a random name, normalised paths) was a third of
    # the writer's time at a publication per append.
    while True:
        tmp = os.path.join(folder, f".tmp-{os.getpid()}-{_TAG}-{next(_TEMPORARY)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            break
        except FileNotFoundError:
            # The first tile of its folder: make the folder only then, not at every write.
            os.makedirs(folder, exist_ok=True)
        except FileExistsError:
            pass  # left behind by a killed process that had this id and tag: take the next
    try:
        try:
            os.fchmod(fd, 0o644)  # public by design, hashes only: whatever the umask says
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _frontier(size: int) -> Iterator[tuple[int, int]]:
    """Yield (height, node index) of the complete subtrees covering leaves [0, size)."""
    start = 0
    for height in range(size.bit_length() - 1, -1, -1):
        if size >> height & 1:
            yield height, start >> height
            start += 1 << height


class _TileCache:
    """Fetch each tile of a tree once and check its length."""

    def __init__(self, tree_size: int, fetch: TileFetcher):
        self.tree_size = tree_size
        self.fetch = fetch
        self.tiles: dict[Tile, bytes] = {}

    def hashes(self, level: int, first: int, count: int) -> list[bytes]:
        """Return the hashes of nodes first .. first+count-1 at height 8·level (one tile)."""
        index = first // TILE_WIDTH
        width = min(TILE_WIDTH, _level_count(self.tree_size, level) - index * TILE_WIDTH)
        tile = Tile(level, index, width)
        data = self.tiles.get(tile)
        if data is None:
            data = self.fetch(tile.path)
            if len(data) != width * HASH_SIZE:
                raise InvalidProof(f"tile {tile.path} has {len(data)} bytes, not {width * 32}")
            self.tiles[tile] = data
        offset = first - index * TILE_WIDTH
        return [data[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(offset, offset + count)]


def frontier_from_tiles(
    size: int, fetch: TileFetcher, tree_size: int | None = None
) -> list[tuple[int, int, bytes]]:
    """Return the compact range of leaves [0, size) — (first leaf, height, hash) of each
    complete subtree covering them, largest first — read from the tiles of a tree of
    tree_size ≥ size leaves (default: size).

    Each subtree is a node at height 8·L + r: the hash of 2**r consecutive hashes of one tile
    at level L. Reading an older size from a newer tree's tiles is how a monitor recomputes
    the root it saw before; ``merkle.compact_root`` folds the range into the root.

    :raises InvalidProof: a tile has the wrong length.
    """
    tree_size = size if tree_size is None else tree_size
    if not 0 <= size <= tree_size:
        raise ValueError("tree sizes must satisfy 0 <= size <= tree_size")
    tiles = _TileCache(tree_size, fetch)
    frontier = []
    for height, node in _frontier(size):
        level, r = divmod(height, TILE_HEIGHT)
        hashes = tiles.hashes(level, node << r, 1 << r)
        while len(hashes) > 1:
            hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        frontier.append((node << height, height, hashes[0]))
    return frontier


def extend_from_tiles(
    frontier: list[tuple[int, int, bytes]], old_size: int, new_size: int, fetch: TileFetcher
) -> list[tuple[int, int, bytes]]:
    """Extend the compact range of a tree of old_size leaves to new_size, from new_size's tiles.

    Only the leaf hashes [old_size, new_size) are read (level-0 tiles): the first old_size
    leaves stay exactly as the given range commits to them, so if the result's root is a
    checkpoint's root, that tree extends the old one (what a consistency proof shows).
    """
    if not 0 <= old_size <= new_size:
        raise ValueError("tree sizes must satisfy 0 <= old <= new")
    stack = list(frontier)
    tiles = _TileCache(new_size, fetch)
    leaf = old_size
    while leaf < new_size:
        count = min(TILE_WIDTH - leaf % TILE_WIDTH, new_size - leaf)
        for h in tiles.hashes(0, leaf, count):
            compact_push(stack, leaf, 0, h)
            leaf += 1
    return stack


def root_from_tiles(size: int, fetch: TileFetcher) -> bytes:
    """Rebuild the root of a tree of size leaves from its tiles, fetched by path.

    Compare the result with the checkpoint's root.

    :raises InvalidProof: a tile has the wrong length.
    """
    if size == 0:
        return EMPTY_ROOT
    return compact_root(frontier_from_tiles(size, fetch))
