"""Read a project's items from CSV or JSONL, with their media from a zip, all or nothing.

The file is parsed as a stream (the csv module over a text wrapper, JSONL line by line), rows
are inserted in batches inside one transaction, and any bad row rolls the whole upload back:
the report then lists every bad row by line number with the reason. Media are taken only from
the zip (never fetched from a URL), checked by their first bytes, and stored content-addressed.
"""

import csv
import io
import json
import lzma
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask_babel import gettext as _

from coop import files
from coop.db import database, write_transaction
from coop.errors import DomainError
from coop.projects.models import GoldState, Item, Project
from coop.projects.templates import Media, item_fields
from coop.quality.gold import MAX_EXPLANATION, parse_gold

MAX_EXTERNAL_ID = 200
MAX_FIELD_CHARS = 10_000
MAX_ROWS = 100_000
MAX_ERRORS = 200  # reported; the count says how many more
BATCH = 500
MAX_ZIP_MEMBERS = 20_000
MAX_ZIP_BYTES = 2 * 1024**3  # declared uncompressed total; each file is capped as it is read
SNIFF = 16
# What reading a damaged, encrypted or oddly compressed zip member may raise.
UNREADABLE = (
    zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, zlib.error,
    lzma.LZMAError,
)

# Magic bytes of the media a template may show: nothing else is stored or served.
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "application/pdf")
_AUDIO_TYPES = ("audio/mpeg", "audio/ogg", "audio/wav")
ALLOWED_TYPES = {Media.IMAGE: _IMAGE_TYPES, Media.AUDIO: _AUDIO_TYPES}


def sniff(head: bytes) -> str | None:
    """Return the content type the first bytes show, among the media we accept."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


@dataclass
class ImportReport:
    """What an upload did: rows imported, rows already present, and the bad rows."""

    imported: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    more_errors: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, line: int, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append((line, reason))
        else:
            self.more_errors += 1


class _Rejected(Exception):
    """Roll the transaction back: the report lists why."""


class _Media:
    """The upload's zip: names checked up front, each member stored once when a row uses it."""

    def __init__(self, stream):
        self.stored: dict[str, files.StoredFile] = {}
        self.zip = None
        if stream is None:
            return
        try:
            self.zip = zipfile.ZipFile(stream)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError):
            raise DomainError(_("The media file is not a readable zip."), field="media") from None
        if len(infos) > MAX_ZIP_MEMBERS:
            raise DomainError(
                _("The zip holds more than %(max)s files.", max=MAX_ZIP_MEMBERS), field="media"
            )
        if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            raise DomainError(
                _("The zip unpacks to more than %(size)s.", size=files.format_size(MAX_ZIP_BYTES)),
                field="media",
            )
        self.names = {i.filename: i for i in infos if not i.is_dir()}

    def get(self, name: str, media: Media) -> tuple[dict | None, str | None]:
        """Return (the stored file's description, None) or (None, the reason it is refused)."""
        if self.zip is None or name not in self.names:
            return None, _("unknown media file %(name)s", name=name[:100])
        if name not in self.stored:
            try:
                with self.zip.open(self.names[name]) as member:
                    head = member.read(SNIFF)
                    content_type = sniff(head)
                    if content_type is None:
                        return None, _("%(name)s is not a PNG, JPEG, WebP, MP3, Ogg, WAV or PDF "
                                       "file", name=name[:100])
                    stream = io.BufferedReader(_Prefixed(head, member))
                    self.stored[name] = files.save(stream, name, content_type)
            except UNREADABLE:
                return None, _("%(name)s cannot be read from the zip", name=name[:100])
            except files.FileTooLarge as error:
                return None, error.message
        stored = self.stored[name]
        if stored.content_type not in ALLOWED_TYPES[media]:
            return None, _("%(name)s is not an %(media)s file", name=name[:100], media=media.value)
        return {
            "sha256": stored.sha256,
            "content_type": stored.content_type,
            "filename": stored.filename,
        }, None


class _Prefixed(io.RawIOBase):
    """A readable stream of head followed by the rest of member (the sniffed bytes put back)."""

    def __init__(self, head: bytes, member):
        self.head, self.member = head, member

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n], self.head = self.head[:n], self.head[n:]
            return n
        data = self.member.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _decoded_lines(stream, bad: set[int]) -> Iterator[str]:
    """Decode a byte stream line by line, noting the numbers of lines that are not UTF-8.

    The csv module reads text; decoding each line here (rather than in blocks) lets a bad
    byte be reported on its own line while the rest of the file is still checked.
    """
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # the byte order mark spreadsheets write
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            bad.add(number)
            yield raw.decode("utf-8", errors="replace")


def _csv_rows(stream) -> Iterator[tuple[int, dict | None, str | None]]:
    """Yield (line, row, None) or (line, None, reason) from a CSV byte stream."""
    bad: set[int] = set()
    reader = csv.reader(_decoded_lines(stream, bad))
    header, last = None, 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield reader.line_num, None, _("not valid CSV (%(error)s)", error=str(error)[:100])
            return
        first, last = last + 1, reader.line_num
        if bad.intersection(range(first, last + 1)):
            yield first, None, _("not valid UTF-8")
            if header is None:
                return
            continue
        if header is None:
            header = [h.strip() for h in values]
            if len(set(header)) != len(header):
                yield first, None, _("a column name appears twice")
                return
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield first, None, _(
                "%(found)s values for %(columns)s columns", found=len(values),
                columns=len(header),
            )
            continue
        yield first, dict(zip(header, values, strict=True)), None


def _jsonl_rows(stream) -> Iterator[tuple[int, dict | None, str | None]]:
    """Yield (line, row, None) or (line, None, reason) from a JSONL byte stream."""
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None, _("not valid UTF-8")
            continue
        if not line.strip():
            continue
        try:
            row = json.loads(line, parse_float=_no_float)
        except (ValueError, RecursionError):
            yield number, None, _("bad JSON")
            continue
        if not isinstance(row, dict):
            yield number, None, _("bad JSON: each line must be one object")
            continue
        if isinstance(row.get("gold_answer"), dict):
            # A gold answer may be written as an object; the checks below read it as text.
            row["gold_answer"] = json.dumps(row["gold_answer"], ensure_ascii=False)
        bad = [k for k, v in row.items() if not isinstance(v, str | int) or isinstance(v, bool)]
        if bad:
            yield number, None, _("%(field)s must be text", field=str(bad[0])[:40])
            continue
        yield number, {k: str(v) for k, v in row.items()}, None


def _no_float(text: str):
    raise ValueError("floats are not allowed")


def rows_of(stream, filename: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """Choose the parser by the file's extension."""
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return _csv_rows(stream)
    if name.endswith((".jsonl", ".ndjson")):
        return _jsonl_rows(stream)
    raise DomainError(_("Upload a .csv or a .jsonl file."), field="items")


def _check_gold(row: dict, template: dict) -> tuple[dict, str]:
    """Return the gold columns of an item ({} when not gold) and "", or ({}, reason)."""
    answer = (row.get("gold_answer") or "").strip()
    explanation = (row.get("gold_explanation") or "").strip()
    if not answer:
        if explanation:
            return {}, _("gold_explanation without gold_answer")
        return {}, ""
    if len(explanation) > MAX_EXPLANATION:
        return {}, _("%(field)s is too long (at most %(max)s characters)",
                     field="gold_explanation", max=MAX_EXPLANATION)
    canonical, reason = parse_gold(template, answer)
    if reason:
        return {}, reason
    return {"gold_answer": canonical, "gold_explanation": explanation,
            "gold_state": GoldState.ACTIVE}, ""


def _check_row(row: dict, fields: dict[str, Media], media: _Media) -> tuple[dict, dict, str]:
    """Return (data, media, "") for a good row, or ({}, {}, reason)."""
    external_id = (row.get("external_id") or "").strip()
    if not external_id:
        return {}, {}, _("missing field external_id")
    if len(external_id) > MAX_EXTERNAL_ID:
        return {}, {}, _("external_id is too long (at most %(max)s characters)",
                         max=MAX_EXTERNAL_ID)
    data, stored = {"external_id": external_id}, {}
    for name, kind in fields.items():
        value = (row.get(name) or "").strip()
        if not value:
            return {}, {}, _("missing field %(field)s", field=name)
        if len(value) > MAX_FIELD_CHARS:
            return {}, {}, _("%(field)s is too long (at most %(max)s characters)", field=name,
                             max=MAX_FIELD_CHARS)
        if kind == Media.TEXT:
            data[name] = value
            continue
        described, reason = media.get(value, kind)
        if reason:
            return {}, {}, reason
        data[name] = value
        stored[name] = described
    return data, stored, ""


# The columns one INSERT writes per item; the counters start at zero, `free` at the overlap.
_ITEM_COLUMNS = ("project_id", "external_id", "data", "media", "free", "answers_count",
                 "active_count", "gold_answer", "gold_explanation", "gold_state")  # fmt: skip


def _insert_items(rows: list[tuple]) -> None:
    """Insert rows of _ITEM_COLUMNS values in one statement.

    Written by hand because peewee's insert_many spends two thirds of an upload building the
    SQL value by value (11,000 rows/s for 100,000 rows on SQLite); only placeholders are
    interpolated, the values travel as parameters.
    """
    row = "(" + ",".join([database.param] * len(_ITEM_COLUMNS)) + ")"
    sql = (
        f"INSERT INTO {Item._meta.table_name} ({', '.join(_ITEM_COLUMNS)}) "  # noqa: S608
        f"VALUES {','.join([row] * len(rows))}"
    )
    database.execute_sql(sql, [value for values in rows for value in values])


def import_items(project: Project, template: dict, stream, filename: str,
                 media_stream=None, progress=None) -> ImportReport:
    """Import the rows of stream into project, all or nothing; return the report.

    The caller has checked the project accepts items. Rows whose external_id the project
    already has are left unchanged and counted; a bad row means nothing is imported.
    """
    rows = rows_of(stream, filename)
    fields = item_fields(template)
    media = _Media(media_stream)
    report = ImportReport()
    seen: dict[str, int] = {}
    batch: list[dict] = []
    limit = MAX_ROWS

    def flush():
        if not batch:
            return
        ids = [row[1] for row in batch]
        present = {
            i.external_id
            for i in Item.select(Item.external_id).where(
                (Item.project == project.id) & (Item.external_id.in_(ids))
            )
        }
        new = [row for row in batch if row[1] not in present]
        report.unchanged += len(batch) - len(new)
        if new and report.ok:
            _insert_items(new)
        report.imported += len(new)
        if progress:
            progress(len(batch))
        batch.clear()

    try:
        with write_transaction():
            for line, row, reason in rows:
                if reason is None and len(seen) >= limit:
                    reason = _("more than %(max)s rows in one upload", max=limit)
                if reason is None:
                    data, stored, reason = _check_row(row, fields, media)
                if not reason:
                    gold, reason = _check_gold(row, template)
                if not reason:
                    external_id = data["external_id"]
                    if external_id in seen:
                        reason = _("duplicate id %(id)s (first on line %(line)s)",
                                   id=external_id[:60], line=seen[external_id])
                    else:
                        seen[external_id] = line
                if reason:
                    report.add(line, reason)
                    continue
                external_id = data.pop("external_id")
                batch.append((
                    project.id,
                    external_id,
                    json.dumps(data, sort_keys=True, ensure_ascii=False),
                    json.dumps(stored, sort_keys=True),
                    project.overlap,
                    0,
                    0,
                    gold.get("gold_answer"),
                    gold.get("gold_explanation", ""),
                    gold.get("gold_state", ""),
                ))
                if len(batch) >= BATCH:
                    flush()
            flush()
            if not report.ok:
                raise _Rejected
            Project.update(items_count=Project.items_count + report.imported).where(
                Project.id == project.id
            ).execute()
    except _Rejected:
        report.imported = report.unchanged = 0
    if not seen and report.ok:
        raise DomainError(_("The file holds no item."), field="items")
    return report
