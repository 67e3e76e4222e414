"""The ledger's public hash tiles (C2SP tlog-tiles): written after each publication, served as
files. A GET only ever sends a file the write side wrote; it never computes a tile."""

from pathlib import Path

from flask import current_app

from coop.audit import ledger as app_ledger
from ledger.tiles import Tile, TileWriter, parse_tile_path

FOLDER = "tiles"
_EXTENSION = "coop_tiles"


def tiles_dir(app=None) -> Path:
    """Return the folder holding ``tile/...`` (COOP_TILES_DIR, else instance/tiles)."""
    app = app or current_app
    return Path(app.config.get("TILES_DIR") or Path(app.config["INSTANCE_DIR"]) / FOLDER)


def write_tiles(size: int) -> list[Tile]:
    """Write the tiles of the published tree of size not written yet; return those written."""
    # One writer per process: it remembers what it wrote, so a publication writes one or two
    # small files rather than checking every full tile again.
    writer = current_app.extensions.get(_EXTENSION)
    if writer is None:
        writer = current_app.extensions.setdefault(_EXTENSION, TileWriter(tiles_dir()))
    return writer.write(size, app_ledger.get_ledger().stored_hashes)


def written_tile(level: int, rest: str) -> tuple[Tile, Path] | None:
    """Return the tile at ``tile/<level>/<rest>`` and its file, or None if not written."""
    try:
        tile = parse_tile_path(f"tile/{level}/{rest}")
    except ValueError:
        return None
    path = tiles_dir() / tile.path
    return (tile, path) if path.is_file() else None
