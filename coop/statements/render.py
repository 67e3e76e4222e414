"""Statements as PDF/A-3b: plain values -> HTML (Jinja, in the reader's language) -> PDF.

`render_statement(values)` is a pure function of the values it is given: templates receive
dataclasses and dicts, never models. The HTML -> PDF step (`html_to_pdf`) needs no app and no
database, so worker processes can run it. WeasyPrint may only read local files under the
font folders: any other URL stops the rendering.
"""

import hashlib
import json
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from multiprocessing import get_context
from pathlib import Path
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

ROOT = Path(__file__).resolve().parent.parent.parent
STATIC_DIR = ROOT / "coop" / "static"
# Debian's DejaVu (fonts-dejavu-core); a vendored copy under coop/static/fonts wins.
FONT_DIRS = (STATIC_DIR / "fonts", Path("/usr/share/fonts/truetype/dejavu"))
PDF_VARIANT = "pdf/a-3b"
# PDF/UA-1 (ISO 14289-1) beside PDF/A-3b: WeasyPrint writes one variant's identification, so
# the tagged PDF/A gets the PDF/UA one added to its XMP, with the extension schema PDF/A asks
# for any property outside its predefined schemas.
PDFUA_XMP = b"""<rdf:Description rdf:about="" \
xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" \
xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" \
xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">\
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">\
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>\
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>\
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>\
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">\
<pdfaProperty:name>part</pdfaProperty:name>\
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>\
<pdfaProperty:category>internal</pdfaProperty:category>\
<pdfaProperty:description>Part of ISO 14289 the file conforms to</pdfaProperty:description>\
</rdf:li></rdf:Seq></pdfaSchema:property>\
</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>\
<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">\
<pdfuaid:part>1</pdfuaid:part></rdf:Description>"""
ATTACHMENT_NAME = "statement.json"
WORKER_TASKS = 100  # PDFs a worker process renders before a fresh one replaces it


@dataclass(frozen=True)
class Checkpoint:
    """The ledger's signed checkpoint when the month closed."""

    size: int
    root_b64: str
    note: str


@dataclass(frozen=True)
class Bar:
    label: str
    cents: int


@dataclass(frozen=True)
class StatementValues:
    """Everything one PDF shows: kind is "member", "board" or "annual"; amounts are cents.

    `data` is the JSON attached to the PDF (the frozen figures and ledger references);
    `history` feeds the bar chart of the last twelve months, `categories` the board's chart.
    """

    kind: str
    month: str
    draft: bool
    locale: str
    timezone: str
    data: dict
    member_name: str = ""
    year_to_date_cents: int = 0
    history: tuple[Bar, ...] = ()
    categories: tuple[Bar, ...] = ()
    checkpoint: Checkpoint | None = None

    @classmethod
    def from_data(cls, data: dict) -> "StatementValues":
        """Rebuild a statement's values from its attached JSON (`statement.json`) alone."""
        if data.get("kind") not in ("member", "board", "annual"):
            raise ValueError("kind must be member, board or annual")
        checkpoint = data.get("checkpoint")
        return cls(
            kind=data["kind"],
            month=data["month"],
            draft=data["draft"],
            locale=data["locale"],
            timezone=data["timezone"],
            data=data,
            member_name=data.get("member", {}).get("name", ""),
            year_to_date_cents=data.get("year_to_date_cents", 0),
            history=tuple(Bar(b["label"], b["cents"]) for b in data.get("history", [])),
            categories=tuple(Bar(b["label"], b["cents"]) for b in data.get("categories", [])),
            checkpoint=Checkpoint(checkpoint["size"], checkpoint["root"], checkpoint["note"])
            if checkpoint else None,
        )

    @property
    def document_date(self) -> str:
        """The PDF's date: the end of the period, as the attached JSON says."""
        return self.data.get("document_date") or PdfJob.document_date

    @property
    def filename(self) -> str:
        # An annual statement's "month" is its fiscal year's period name, FY2025.
        who = "summary" if self.kind == "board" else f"member-{self.data['member']['id']}"
        return f"{self.month}-{who}{'-draft' if self.draft else ''}.pdf"


@dataclass(frozen=True)
class PdfJob:
    """What a worker needs to make one PDF: plain strings and bytes only.

    `document_date` (UTC, "YYYY-MM-DDTHH:MM:SSZ") is the PDF's creation and modification date
    and its attachment's: fixed by the period, never the clock, so the same values give the
    same bytes.
    """

    key: str
    html: str
    attachment: bytes
    document_date: str = "2000-01-01T00:00:00Z"


def canonical_json(value) -> bytes:
    """Encode value as canonical JSON: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _font_dir() -> Path:
    for folder in FONT_DIRS:
        if (folder / "DejaVuSans.ttf").exists():
            return folder
    raise RuntimeError("DejaVu fonts are missing: install fonts-dejavu-core")


def _allowed(path: Path) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(folder.resolve()) for folder in (*FONT_DIRS, STATIC_DIR))


def _fetcher():
    """Return a WeasyPrint URL fetcher that reads local font and static files only."""
    from urllib.parse import unquote, urlsplit

    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                raise ValueError(f"refused to fetch {url}: only local files may be read")
            path = Path(unquote(parts.path))
            if not _allowed(path) or not path.is_file():
                raise ValueError(f"refused to read {path}: not under the font folders")
            return URLFetcherResponse(url, body=path.read_bytes())

    return LocalOnlyFetcher(fail_on_errors=True)


def html_to_pdf(html: str, attachment: bytes, document_date: str = PdfJob.document_date) -> (
    bytes
):
    """Render HTML to a tagged PDF/A-3b and PDF/UA-1 with the JSON attached; no app, no
    database, no network.

    The output is a function of its arguments (and of the fonts and WeasyPrint version): the
    attachment's dates are document_date (the HTML carries the same date in its dcterms
    meta), and the file identifier is derived from the attachment, so re-rendering a statement
    reproduces its PDF byte for byte and anyone can check its hash on the ledger.
    """
    from weasyprint import HTML, Attachment

    fetcher = _fetcher()
    base_url = str(STATIC_DIR) + "/"
    moment = datetime.strptime(document_date, "%Y-%m-%dT%H:%M:%SZ")  # naive UTC, as WeasyPrint
    attached = Attachment(
        string=attachment,
        base_url=base_url,
        url_fetcher=fetcher,
        name=ATTACHMENT_NAME,
        description="Figures and ledger references",
        relationship="Data",
        created=moment,
        modified=moment,
    )
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    identifier = hashlib.sha256(attachment).hexdigest()[:32].encode()
    with warnings.catch_warnings():
        # WeasyPrint 70 opens its sRGB profile for PDF/A and never closes it.
        warnings.simplefilter("ignore", ResourceWarning)
        # Tagged (headings, paragraphs, tables with their header cells, the charts as
        # figures with their alternative text) so that screen readers can read it.
        return document.write_pdf(
            pdf_variant=PDF_VARIANT, pdf_tags=True, finisher=_declare_pdfua,
            attachments=[attached], pdf_identifier=identifier,
        )


def _declare_pdfua(document, pdf) -> None:
    """Add the PDF/UA-1 identification to the XMP metadata WeasyPrint wrote for PDF/A."""
    metadata = pdf.objects[int(pdf.catalog["Metadata"].split()[0])]
    (xmp,) = metadata.stream
    if xmp.count(b"</rdf:RDF>") != 1:
        raise RuntimeError("unexpected XMP metadata: cannot declare PDF/UA")
    metadata.stream = [xmp.replace(b"</rdf:RDF>", PDFUA_XMP + b"</rdf:RDF>")]


def _render_job(job: PdfJob) -> tuple[str, bytes]:
    return job.key, html_to_pdf(job.html, job.attachment, job.document_date)


def render_jobs(jobs, workers: int = 1):
    """Yield (key, pdf bytes) for each job, in a pool of worker processes when workers > 1.

    At most two jobs per worker are in flight, so memory stays flat however many there are.
    """
    if workers <= 1:
        for job in jobs:
            yield _render_job(job)
        return
    # spawn, not fork: the parent may hold database connections and threads. WeasyPrint's
    # caches grow with every document, so each worker is replaced after WORKER_TASKS PDFs.
    with ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), max_tasks_per_child=WORKER_TASKS
    ) as pool:
        pending = []
        for job in jobs:
            pending.append(pool.submit(_render_job, job))
            if len(pending) >= workers * 2:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def format_time(unix_ns: int, timezone: str) -> str:
    """Format a ledger time in the coop's timezone, to the second, with its offset."""
    moment = datetime.fromtimestamp(unix_ns / 1e9, UTC).astimezone(ZoneInfo(timezone))
    return moment.strftime("%Y-%m-%d %H:%M:%S %z")


# Charts are drawn at their own size (one SVG unit = one CSS pixel = 0.75 pt), so 10 units
# print at 7.5 pt: readable on paper (7 pt at least).
CHART_FONT = 10
CHART_WIDTH = 640  # within the A4 text width (180 mm, 680 px, less the body's margins)
GAIN, LOSS = "#2a6f97", "#b3261e"


def _wrapped(label: str, width: float) -> list[str]:
    """Cut a label into at most two lines that fit width (DejaVu: ~0.6 em a character)."""
    fits = max(int(width / (CHART_FONT * 0.6)), 4)
    lines = [""]
    for word in label.split():
        if lines[-1] and len(lines[-1]) + 1 + len(word) > fits and len(lines) < 2:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return lines


def bar_chart(bars, money, title: str = "", width: int = CHART_WIDTH, height: int = 150) -> (
    Markup
):
    """Return an inline SVG bar chart of the amounts, each bar labelled with its amount.

    Losses are red bars hanging below the zero line, their amounts (negative) under them.
    The title is the chart's alternative text in a tagged PDF: it lists every bar.
    """
    bars = list(bars)
    if not bars:
        return Markup("")
    slot = width / len(bars)
    labels = [_wrapped(b.label, slot * 0.95) for b in bars]
    line_h = CHART_FONT + 2
    label_h = line_h * max(len(lines) for lines in labels) + 4
    top = max([b.cents for b in bars] + [0])
    bottom = min([b.cents for b in bars] + [0])
    span = (top - bottom) or 1
    below = line_h if bottom < 0 else 0  # room for the amounts under the lowest loss
    plot_h = height - label_h - line_h - below
    zero_y = line_h + plot_h * top / span
    summary = "; ".join(f"{b.label}: {money(b.cents)}" for b in bars)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="chart" role="img">',
        f"<title>{escape(title)}{': ' if title else ''}{escape(summary)}</title>",
        f'<line x1="0" y1="{zero_y:.1f}" x2="{width}" y2="{zero_y:.1f}" stroke="#555" '
        f'stroke-width="0.8"/>',
    ]
    for i, (bar, lines) in enumerate(zip(bars, labels, strict=True)):
        h = plot_h * abs(bar.cents) / span
        x, middle = i * slot + slot * 0.15, i * slot + slot * 0.5
        if bar.cents >= 0:
            y, value_y = zero_y - h, zero_y - h - 2
        else:
            y, value_y = zero_y, zero_y + h + CHART_FONT
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{GAIN if bar.cents >= 0 else LOSS}"/>'
        )
        parts.append(
            f'<text x="{middle:.1f}" y="{value_y:.1f}" font-size="{CHART_FONT}" '
            f'text-anchor="middle">{escape(money(bar.cents))}</text>'
        )
        for n, line in enumerate(lines):
            parts.append(
                f'<text x="{middle:.1f}" y="{height - label_h + line_h * (n + 1):.1f}" '
                f'font-size="{CHART_FONT}" text-anchor="middle">{escape(line)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - numbers, and labels escaped above


def statement_html(values: StatementValues) -> str:
    """Render the statement's HTML in its language (needs the app, for templates and babel)."""
    from flask import render_template
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from coop.formats import date_, money, month
    from coop.labels import category_label

    with force_locale(values.locale):
        history = [Bar(month(bar.label, short=True), bar.cents) for bar in values.history]
        chart = bar_chart(history, money, _("Your last twelve months") if values.kind == "member"
                          else _("Each month's result"))
        categories = bar_chart([Bar(category_label(b.label), b.cents) for b in values.categories],
                               money, _("Earnings by category"))
        return render_template(
            f"statements/pdf_{values.kind}.html",
            s=values,
            d=values.data,
            money=money,
            time=lambda ns: format_time(ns, values.timezone),
            day=lambda iso: date_(date.fromisoformat(iso)),
            category=category_label,
            history_chart=chart,
            category_chart=categories,
            font_url=(_font_dir() / "DejaVuSans.ttf").as_uri(),
            font_bold_url=(_font_dir() / "DejaVuSans-Bold.ttf").as_uri(),
        )


def statement_job(values: StatementValues, key: str | None = None) -> PdfJob:
    """Prepare the worker's job for a statement (the HTML and its JSON attachment)."""
    return PdfJob(key or values.filename, statement_html(values), canonical_json(values.data),
                  values.document_date)


def render_statement(values: StatementValues) -> bytes:
    """Render one statement to PDF/A-3b bytes."""
    return _render_job(statement_job(values))[1]
