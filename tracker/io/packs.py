"""Board packs (issue 4): a PDF for one programme and one for a viewer's portfolio.

Layout is reportlab's platypus (A4, page numbers in the footer). Charts are the dashboards' own
Altair charts (tracker.charts), rendered by vl-convert to a vector PDF page with its fonts
embedded. reportlab draws an empty form XObject, scaled to fit, where each chart goes; pypdf then
fills that form with the chart page's drawing and resources, unchanged. That keeps every mark,
dash, opacity and label exactly as vl-convert draws it (svglib's reading of Vega's SVG loses
opacity, hidden overlapping labels and the ► ▼ glyphs), with the charts' text selectable.

The text font is Bitstream Vera Sans, which ships inside reportlab (so a fresh machine needs no
system fonts) and has £, é and the dashes, but not the rating symbols ● ◕ ◑ ◔ ○: those are drawn
as vector Harvey balls beside the rating's word, so colour is never the only signal.

Every string that comes from a user goes into a Paragraph through `_esc` (reportlab parses
Paragraph text as mini-HTML), so "<b>" or "<script>" in a title prints as typed. Stakeholder notes
are never read.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from xml.sax.saxutils import escape

import altair as alt
import pandas as pd
import reportlab  # type: ignore[import-untyped]
import vl_convert
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, StreamObject
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_LEFT  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlmodel import Session

from tracker import charts, confidence, permissions, read
from tracker.access import Viewer
from tracker.models import (
    BarrierCategory,
    DeliveryConfidence,
    Stance,
)
from tracker.services.barriers import CATEGORY_WORDS
from tracker.words import (
    amount_text,
    date_text,
    date_words,
    key_words,
    percent,
    stage_label,
    stance_words,
)

__all__ = ["page_count", "portfolio_pack", "programme_pack"]

# --- Page, fonts and styles -----------------------------------------------------------------

MARGIN: float = 18 * mm
FOOTER_GAP: float = 8 * mm
# Metric charts in a programme pack: the first few, so the pack stays a pack.
METRIC_CHARTS = 3
# Upcoming milestones listed in a programme pack.
NEXT_DUE = 8
# Months of change load in a portfolio pack: from last month, as the portfolio page shows it.
CHANGE_LOAD_MONTHS = 9

_INK = colors.HexColor("#0b0c0c")
_GREY = colors.HexColor("#505a5f")
_RULE = colors.HexColor("#b1b4b6")
_SHADE = colors.HexColor("#f3f2f1")
_HIGHLIGHT = colors.HexColor("#e8f1f8")

_FONT = "PackSans"
_BOLD = "PackSans-Bold"
_ITALIC = "PackSans-Italic"
_BOLD_ITALIC = "PackSans-BoldItalic"


@functools.cache
def _register_fonts() -> None:
    """Embed Bitstream Vera Sans (shipped inside reportlab) as the pack's font family."""
    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    for name, file in (
        (_FONT, "Vera.ttf"),
        (_BOLD, "VeraBd.ttf"),
        (_ITALIC, "VeraIt.ttf"),
        (_BOLD_ITALIC, "VeraBI.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, os.path.join(folder, file)))
    pdfmetrics.registerFontFamily(
        _FONT, normal=_FONT, bold=_BOLD, italic=_ITALIC, boldItalic=_BOLD_ITALIC
    )


@dataclass(frozen=True)
class _Styles:
    eyebrow: ParagraphStyle
    title: ParagraphStyle
    lead: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    cell_small: ParagraphStyle
    summary: ParagraphStyle


@functools.cache
def _styles() -> _Styles:
    _register_fonts()
    base = ParagraphStyle(
        "body", fontName=_FONT, fontSize=10, leading=14, textColor=_INK, alignment=TA_LEFT
    )
    return _Styles(
        eyebrow=ParagraphStyle("eyebrow", base, fontSize=11, leading=14, textColor=_GREY),
        title=ParagraphStyle("title", base, fontName=_BOLD, fontSize=22, leading=27, spaceAfter=6),
        lead=ParagraphStyle("lead", base, fontSize=11, leading=15, spaceAfter=8),
        h1=ParagraphStyle(
            "h1", base, fontName=_BOLD, fontSize=15, leading=19, spaceBefore=14, spaceAfter=6
        ),
        h2=ParagraphStyle(
            "h2", base, fontName=_BOLD, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=4
        ),
        body=ParagraphStyle("body", base, spaceAfter=4),
        small=ParagraphStyle("small", base, fontSize=8.5, leading=11, textColor=_GREY),
        cell=ParagraphStyle("cell", base, fontSize=8.5, leading=10.5),
        cell_bold=ParagraphStyle("cell_bold", base, fontName=_BOLD, fontSize=8.5, leading=10.5),
        cell_small=ParagraphStyle("cell_small", base, fontSize=7.5, leading=9.5, textColor=_GREY),
        summary=ParagraphStyle("summary", base, fontSize=9.5, leading=13, spaceAfter=10),
    )


def _esc(value: object) -> str:
    """User text made safe for a Paragraph: <, > and & print as typed."""
    return escape("" if value is None else str(value))


# --- Small wording helpers ------------------------------------------------------------------


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as plain dicts, column name to value."""
    return [{str(key): value for key, value in row.items()} for row in frame.to_dict("records")]


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))  # type: ignore[call-overload]


def _short_date(value: object) -> str:
    """E.g. "6 Mar 2027"; "not set" when there is none."""
    return date_text(None if _missing(value) else pd.Timestamp(value).date())  # type: ignore[arg-type]


def _percent(value: object, not_defined: str = "Not planned") -> str:
    return percent(None if _missing(value) else float(value), not_defined=not_defined)  # type: ignore[arg-type]


def _stance_index(value: object) -> str:
    """A stance index with its sign and the nearest stance in words (tracker.words)."""
    number = None if _missing(value) else float(value)  # type: ignore[arg-type]
    return stance_words(number, missing="No assessments yet")


def _status_words(status: object) -> str:
    return key_words(str(status))


def _stage_words(stage: object) -> str:
    return stage_label(str(stage))


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- Flowables ------------------------------------------------------------------------------

# How full each rating's Harvey ball is: the fuller, the higher the confidence.
_FILL = {
    DeliveryConfidence.green: 1.0,
    DeliveryConfidence.amber_green: 0.75,
    DeliveryConfidence.amber: 0.5,
    DeliveryConfidence.amber_red: 0.25,
    DeliveryConfidence.red: 0.0,
}


def _harvey_ball(canvas: Canvas, x: float, y: float, radius: float, rating: str) -> None:
    """The rating's symbol (● ◕ ◑ ◔ ○) as vector shapes centred on (x, y), in its colour with a
    dark outline: filled clockwise from twelve o'clock by how confident the rating is."""
    style = charts.CONFIDENCE_STYLE[DeliveryConfidence(rating)]
    fill = _FILL[DeliveryConfidence(rating)]
    colour = colors.HexColor(style.colour)
    canvas.saveState()
    canvas.setLineWidth(max(0.8, radius / 6))
    canvas.setStrokeColor(_INK)
    canvas.setFillColor(colors.white)
    canvas.circle(x, y, radius, stroke=0, fill=1)
    canvas.setFillColor(colour)
    if fill >= 1.0:
        canvas.circle(x, y, radius, stroke=0, fill=1)
    elif fill > 0:
        canvas.wedge(x - radius, y - radius, x + radius, y + radius, 90, -360 * fill, 0, 1)
    canvas.setStrokeColor(colour if fill == 0 else _INK)
    canvas.setLineWidth(max(0.8, radius / 6) * (2 if fill == 0 else 1))
    canvas.circle(x, y, radius, stroke=1, fill=0)
    canvas.restoreState()


class _RatingMark(Flowable):  # type: ignore[misc]
    """A delivery confidence rating as its Harvey ball and its word, e.g. "◑ Amber"."""

    def __init__(self, rating: str, *, font_size: float = 8.5, bold: bool = True) -> None:
        super().__init__()
        self.rating = DeliveryConfidence(rating)
        self.font_size = font_size
        self.font = _BOLD if bold else _FONT
        self.label = charts.CONFIDENCE_STYLE[self.rating].label
        self.radius = font_size * 0.55
        self.gap = font_size * 0.45

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        text = pdfmetrics.stringWidth(self.label, self.font, self.font_size)
        self.width = 2 * self.radius + self.gap + text
        self.height = self.font_size * 1.25
        return self.width, self.height

    def draw(self) -> None:
        canvas: Canvas = self.canv
        middle = self.height / 2
        _harvey_ball(canvas, self.radius, middle, self.radius, self.rating)
        style = charts.CONFIDENCE_STYLE[self.rating]
        canvas.setFillColor(colors.HexColor(style.colour) if style.text_safe else _INK)
        canvas.setFont(self.font, self.font_size)
        canvas.drawString(2 * self.radius + self.gap, middle - self.font_size * 0.35, self.label)


# reportlab's name for a form XObject called "Chart3" (reportlab.pdfbase.pdfdoc.xObjectName).
_FORM_PREFIX = "/FormXob.Chart"


class _ChartSlot(Flowable):  # type: ignore[misc]
    """Room for one chart, scaled to fit the frame (never enlarged). It draws an empty form
    XObject named after the chart's index, the size of the chart's page; _fill_charts puts the
    chart's vector drawing into that form after the build."""

    def __init__(self, index: int, chart: PageObject, max_width: float, max_height: float) -> None:
        super().__init__()
        self.index = index
        box = chart.mediabox
        self.chart_width, self.chart_height = float(box.width), float(box.height)
        self.scale = min(1.0, max_width / self.chart_width, max_height / self.chart_height)
        self.width = self.chart_width * self.scale
        self.height = self.chart_height * self.scale

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas: Canvas = self.canv
        name = f"Chart{self.index}"
        canvas.beginForm(name, 0, 0, self.chart_width, self.chart_height)
        canvas.endForm()
        canvas.saveState()
        canvas.scale(self.scale, self.scale)
        canvas.doForm(name)
        canvas.restoreState()


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """A canvas that holds its pages until the end, so each footer can say "Page 2 of 7"."""

    def __init__(self, *args: Any, footer: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._footer = footer

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        width, _height = self._pagesize
        self.saveState()
        self.setFont(_FONT, 8)
        self.setFillColor(_GREY)
        self.setStrokeColor(_RULE)
        self.setLineWidth(0.5)
        self.line(MARGIN, MARGIN - 3 * mm, width - MARGIN, MARGIN - 3 * mm)
        self.drawString(MARGIN, MARGIN - FOOTER_GAP, self._footer)
        self.drawRightString(width - MARGIN, MARGIN - FOOTER_GAP, f"Page {number} of {total}")
        self.restoreState()


# --- Building a pack ------------------------------------------------------------------------


@dataclass
class _Pack:
    """A story of flowables and the charts placed in it, for one page size."""

    pagesize: tuple[float, float]
    styles: _Styles = field(default_factory=_styles)
    story: list[Flowable] = field(default_factory=list)
    charts: list[PageObject] = field(default_factory=list)

    @property
    def frame_width(self) -> float:
        return self.pagesize[0] - 2 * MARGIN

    @property
    def frame_height(self) -> float:
        return self.pagesize[1] - 2 * MARGIN

    def add(self, *flowables: Flowable) -> None:
        self.story.extend(flowables)

    def heading(self, text: str, *, level: int = 1) -> None:
        """A section heading, kept on the page with at least a few lines after it."""
        style = self.styles.h1 if level == 1 else self.styles.h2
        self.add(CondPageBreak(40 * mm if level == 1 else 25 * mm), Paragraph(_esc(text), style))

    def para(self, markup: str, style: ParagraphStyle | None = None) -> None:
        """A paragraph of markup built by the caller, who has put any user text in it through
        _esc."""
        self.add(Paragraph(markup, style or self.styles.body))

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        widths: Sequence[float],
        *,
        highlight: Iterable[int] = (),
    ) -> None:
        """A table with a shaded header row repeated on every page. Cells are Paragraphs of
        escaped text (str), flowables, or lists of flowables. `widths` are shares of the frame
        width; `highlight` rows (0 = first body row) get a light blue background."""
        cell, head = self.styles.cell, self.styles.cell_bold
        data: list[list[Any]] = [[Paragraph(_esc(text), head) for text in header]]
        for row in rows:
            data.append([Paragraph(_esc(v), cell) if isinstance(v, str) else v for v in row])
        total = sum(widths)
        table = Table(
            data,
            colWidths=[self.frame_width * w / total for w in widths],
            repeatRows=1,
            hAlign="LEFT",
        )
        commands: list[tuple[Any, ...]] = [
            ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
            ("LINEBELOW", (0, 0), (-1, 0), 1, _INK),
            ("LINEBELOW", (0, 1), (-1, -1), 0.4, _RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ]
        for index in highlight:
            commands.append(("BACKGROUND", (0, index + 1), (-1, index + 1), _HIGHLIGHT))
        table.setStyle(TableStyle(commands))
        self.add(table, Spacer(1, 4))

    def facts(self, pairs: Sequence[tuple[str, Any]], *, label_share: float = 0.28) -> None:
        """Label and value pairs as a borderless two-column table."""
        data = [
            [
                Paragraph(_esc(label), self.styles.cell_bold),
                Paragraph(_esc(value), self.styles.body) if isinstance(value, str) else value,
            ]
            for label, value in pairs
        ]
        table = Table(
            data,
            colWidths=[self.frame_width * label_share, self.frame_width * (1 - label_share)],
            hAlign="LEFT",
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.3, _RULE),
                ]
            )
        )
        self.add(table, Spacer(1, 6))

    def chart(self, chart: Any, summary: str) -> None:
        """A chart as vector graphics with its one-sentence summary beneath, kept together."""
        # The builders' specs are checked by tests/test_charts.py; validating each again here
        # would add a second or so to every pack.
        spec = chart.to_dict(validate=False)
        page = PdfReader(io.BytesIO(vl_convert.vegalite_to_pdf(spec))).pages[0]
        self.charts.append(page)
        limit = self.frame_height - 30 * mm
        self.add(
            KeepTogether(
                [
                    _ChartSlot(len(self.charts) - 1, page, self.frame_width, limit),
                    Spacer(1, 3),
                    Paragraph(f"<b>In short:</b> {_esc(summary)}", self.styles.summary),
                ]
            )
        )

    def build(self, *, title: str, footer: str) -> bytes:
        """The finished PDF: reportlab lays out the story, then the charts are merged in."""
        buffer = io.BytesIO()
        document = SimpleDocTemplate(
            buffer,
            pagesize=self.pagesize,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN,
            title=title,
            author="Change Tracker",
            subject="Board pack",
            creator="Change Tracker",
            initialFontName=_FONT,
        )
        document.build(
            self.story,
            canvasmaker=functools.partial(_NumberedCanvas, footer=footer),
        )
        return _fill_charts(buffer.getvalue(), self.charts)


def _fill_charts(pdf: bytes, chart_pages: Sequence[PageObject]) -> bytes:
    """The pack with each chart slot's empty form replaced by the chart's own page: its
    content stream and resources (embedded fonts included), unchanged, so it stays vector."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    filled: set[int] = set()
    for page in writer.pages:
        resources = cast(DictionaryObject, page["/Resources"].get_object())
        xobjects = resources.get("/XObject", DictionaryObject()).get_object()
        for name, reference in cast(DictionaryObject, xobjects).items():
            if not name.startswith(_FORM_PREFIX):
                continue
            index = int(name.removeprefix(_FORM_PREFIX))
            if index in filled:
                continue
            chart = chart_pages[index]
            contents = chart.get_contents()
            if contents is None:
                raise RuntimeError("vl-convert returned a chart page with nothing on it")
            form = cast(StreamObject, reference.get_object())
            # reportlab encodes the empty form with ASCII85 and Flate; pypdf re-encodes with
            # Flate only, once it has read the old data through the old filters.
            form.get_data()
            form[NameObject("/Filter")] = NameObject("/FlateDecode")
            form.pop("/DecodeParms", None)
            form.set_data(contents.get_data())
            chart_resources = cast(DictionaryObject, chart["/Resources"].get_object())
            form[NameObject("/Resources")] = chart_resources.clone(writer)
            form[NameObject("/BBox")] = ArrayObject(FloatObject(value) for value in chart.mediabox)
            filled.add(index)
    if len(filled) != len(chart_pages):
        raise RuntimeError("a chart was never placed on a page")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_count(pdf: bytes) -> int:
    """How many pages a PDF has."""
    return len(PdfReader(io.BytesIO(pdf)).pages)


def _sized(chart: Any, width: int, height: int) -> Any:
    """A dashboard chart (which fills its container on screen) at a fixed size for paper,
    a little shorter than on screen so two charts share a page."""
    return chart.properties(width=width, height=height)


# --- The programme pack ---------------------------------------------------------------------


def programme_pack(*, session: Session, programme_id: int, today: dt.date, viewer: Viewer) -> bytes:
    """A board pack for one programme as a PDF (A4 portrait): title block, delivery confidence
    and why, the six-stage journey, milestones overdue and next due, stakeholders (aggregates
    and named hotspots, never notes), metrics, open barriers, and the dashboard charts as vector
    graphics, each with its one-sentence summary, prepared for `viewer` (the installation's own
    viewer: "the programme board"). The caller has checked the viewer may see the programme;
    hotspots are named only where the viewer may see its people (the owner's organisation, or a
    partner under a data-sharing agreement; tracker/permissions.py). Raises NotFoundError when
    it does not exist."""
    programme = read.programme.programme_facts(session=session, programme_id=programme_id)
    pack = _Pack(pagesize=A4)
    numbers = read.programme.programme_figures(
        session=session, programme_id=programme_id, today=today
    )
    verdicts = read.programme.verdicts(session=session, programme_id=programme_id, today=today)
    viewer_name = "the programme board" if viewer.system else viewer.name
    hotspots_named = permissions.may_see_names(session, viewer, programme_id)
    _title_block(pack, programme, numbers, verdicts, today, viewer_name)
    _confidence_section(pack, verdicts.confidence)
    _journey_section(pack, session, programme_id, today)
    _milestone_section(pack, session, programme_id, today)
    _stakeholder_section(pack, session, viewer, programme_id, numbers, verdicts, hotspots_named)
    metrics = read.programme.metric_status(session=session, programme_id=programme_id)
    _metric_section(pack, metrics)
    _barrier_section(pack, session, programme_id)
    _chart_section(pack, session, viewer, programme, numbers, metrics, today, hotspots_named)
    prepared = f"Prepared {date_words(today)}"
    return pack.build(
        title=f"{programme.title}: board pack",
        footer=f"{_clip(programme.title, 70)} ({programme.code}) · Board pack · {prepared}",
    )


def _title_block(
    pack: _Pack,
    programme: read.programme.ProgrammeFacts,
    numbers: read.programme.ProgrammeFigures,
    verdicts: read.programme.Verdicts,
    today: dt.date,
    viewer_name: str,
) -> None:
    styles = pack.styles
    pack.para(f"Programme board pack · {_esc(programme.code)}", styles.eyebrow)
    pack.para(_esc(programme.title), styles.title)
    pack.para(f"Prepared {date_words(today)} for {_esc(viewer_name)}", styles.lead)
    if numbers.forecast is None:
        forecast = "No forecast yet: no milestone was completed in the last 12 weeks"
    else:
        forecast = (
            f"{date_words(numbers.forecast.p50)} (50% likely), "
            f"{date_words(numbers.forecast.p85)} (85% likely): "
            f"{verdicts.forecast_verdict.label.lower()}"
        )
    pack.facts(
        [
            ("Owner", programme.owner),
            ("Partners", ", ".join(programme.partners) or "None"),
            ("Senior responsible owner", programme.sponsor or "Not named"),
            ("Programme manager", programme.manager or "Not named"),
            ("Status", _status_words(programme.status)),
            (
                "Dates",
                f"{date_words(programme.start_date)} to {date_words(programme.target_end_date)} "
                "(target end)",
            ),
            ("Forecast finish", forecast),
            (
                "Progress",
                f"{_percent(numbers.progress)} of planned work done by weight "
                f"({numbers.done} of {_plural(numbers.milestones, 'milestone')})",
            ),
        ]
    )


def _confidence_section(pack: _Pack, explanation: confidence.Explanation) -> None:
    styles = pack.styles
    pack.heading("Delivery confidence")
    mark = _RatingMark(explanation.rating, font_size=16)
    badge = Table(
        [[mark, Paragraph(_esc(explanation.source_sentence), styles.small)]],
        colWidths=[mark.wrap(pack.frame_width, 100)[0] + 14, None],
        hAlign="LEFT",
    )
    badge.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    pack.add(badge, Spacer(1, 4))
    pack.para(explanation.suggested_sentence(strong=_bold, text=_esc))
    pack.para(explanation.override_sentence(strong=_bold, text=_esc))
    pack.heading("Why: every rule, its evidence and its threshold", level=2)
    pack.table(
        ["Rule", "Evidence", "Band or threshold", "Raises", "Set the rating"],
        [
            [
                [
                    Paragraph(_esc(rule.name), styles.cell_bold),
                    Paragraph(_esc(rule.description), styles.cell_small),
                ],
                rule.evidence,
                rule.threshold,
                _RatingMark(rule.raises) if rule.raises else "No concern",
                "Yes" if rule.deciding else "",
            ]
            for rule in explanation.rules
        ],
        [28, 25, 22, 16, 9],
        highlight=[index for index, rule in enumerate(explanation.rules) if rule.deciding],
    )
    pack.para(
        "The suggested rating is the worst any rule raises. The rules and their thresholds are "
        "set out in docs/delivery-confidence.md.",
        styles.small,
    )


def _bold(text: str) -> str:
    return f"<b>{text}</b>"


def _journey_section(pack: _Pack, session: Session, programme_id: int, today: dt.date) -> None:
    stages = read.programme.stage_summary(session=session, programme_id=programme_id, today=today)
    pack.heading("The six-stage journey")
    rows = []
    current = []
    for index, stage in enumerate(_records(stages)):
        if stage["current"]:
            current.append(index)
        if _missing(stage["progress"]):
            progress = "Not planned"
        else:
            progress = (
                f"{float(stage['progress']):.0%}\n{stage['done']} of {stage['milestones']} done"
                + (f", {stage['overdue']} overdue" if stage["overdue"] else "")
            )
        rows.append(
            [
                f"{stage['number']}. {stage['title']}",
                _lines(progress),
                f"{_span(stage['planned_start'], stage['planned_end'])}",
                f"{_span(stage['actual_start'], stage['actual_end'], actual=True)}",
                f"{stage['criteria_met']} of {stage['criteria']}"
                if stage["criteria"]
                else "None set",
                "Current" if stage["current"] else "",
            ]
        )
    pack.table(
        ["Stage", "Progress", "Planned", "Actual", "Exit criteria met", "Now"],
        rows,
        [28, 16, 19, 19, 9, 9],
        highlight=current,
    )
    pack.para(
        "Progress is the weight of done milestones over the weight of those not cancelled. "
        "Current stages are shaded; stages overlap, so more than one can be current.",
        pack.styles.small,
    )


def _lines(text: str) -> list[Paragraph]:
    """Text whose first line is bold and whose other lines are small, as one cell."""
    first, *rest = text.split("\n")
    styles = _styles()
    return [Paragraph(_esc(first), styles.cell_bold)] + [
        Paragraph(_esc(line), styles.cell_small) for line in rest
    ]


def _span(start: object, end: object, *, actual: bool = False) -> str:
    if _missing(start):
        return "Not started" if actual else "Not set"
    if _missing(end):
        return f"From {_short_date(start)}" + (", not finished" if actual else "")
    return f"{_short_date(start)} to {_short_date(end)}"


def _milestone_section(pack: _Pack, session: Session, programme_id: int, today: dt.date) -> None:
    pack.heading("Milestones")
    late = read.programme.overdue_milestones(
        session=session, programme_id=programme_id, today=today
    )
    pack.heading(f"Overdue ({len(late)}), most late first", level=2)
    if late.empty:
        pack.para("No milestone is overdue.")
    else:
        pack.table(
            ["Milestone", "Stage", "Owner", "Due", "Days late", "Weight", "Status"],
            [
                [
                    str(row["title"]),
                    _stage_words(row["stage"]),
                    str(row["owner"] or "Not named"),
                    _short_date(row["due_date"]),
                    str(row["slip_days"]),
                    str(row["weight"]),
                    _status_words(row["status"]),
                ]
                for row in _records(
                    late.sort_values(["slip_days", "title"], ascending=[False, True])
                )
            ],
            [30, 12, 16, 12, 8, 9, 13],
        )
    upcoming = read.programme.next_due(
        session=session, programme_id=programme_id, today=today, limit=NEXT_DUE
    )
    pack.heading(f"Next due (up to {NEXT_DUE} not done, soonest first)", level=2)
    if not upcoming:
        pack.para("Nothing else is due: every milestone is done, cancelled or overdue.")
    else:
        pack.table(
            ["Milestone", "Stage", "Owner", "Due", "Weight", "Status"],
            [
                [
                    milestone.title,
                    _stage_words(milestone.stage),
                    milestone.owner or "Not named",
                    _short_date(milestone.due_date),
                    str(milestone.weight),
                    _status_words(milestone.status),
                ]
                for milestone in upcoming
            ],
            [37, 12, 18, 12, 9, 12],
        )


def _stakeholder_section(
    pack: _Pack,
    session: Session,
    viewer: Viewer,
    programme_id: int,
    numbers: read.programme.ProgrammeFigures,
    verdicts: read.programme.Verdicts,
    hotspots_named: bool,
) -> None:
    pack.heading("Stakeholders")
    hot = read.programme.hotspots(session=session, viewer=viewer, programme_id=programme_id)
    blocking = int((hot["blocks"] > 0).sum()) if not hot.empty else 0
    pack.facts(
        [
            ("Stakeholders", str(numbers.stakeholders)),
            ("Stance index now", verdicts.stance_words),
            ("Stance index 90 days ago", _stance_index(verdicts.stance_index_90d)),
            ("Direction", verdicts.direction_words),
            (
                "Resistance hotspots",
                f"{numbers.hotspots}, of whom {blocking} "
                f"{'blocks' if blocking == 1 else 'block'} open work"
                if numbers.hotspots
                else "None",
            ),
        ],
        label_share=0.3,
    )
    pack.para(
        "The stance index is the influence-weighted mean stance, from -2 (all active "
        "resistors) to +2 (all champions). A resistance hotspot has influence 4 or 5 and "
        "resists the change.",
        pack.styles.small,
    )
    if not hotspots_named:
        pack.para(permissions.NAMES_HELD_BY_OWNER)
        return
    pack.heading("Named hotspots", level=2)
    if hot.empty:
        pack.para("No resistance hotspots: nobody with influence 4 or more resists the change.")
        return
    work = read.programme.blocked_work(
        session=session, stakeholder_ids=[int(i) for i in hot["stakeholder_id"]]
    )
    rows = []
    for row in _records(hot):
        titles = work.get(int(row["stakeholder_id"]), [])
        blocks = "; ".join(titles) if titles else "No open milestone waits on them"
        rows.append(
            [
                [
                    Paragraph(_esc(row["name"]), pack.styles.cell_bold),
                    Paragraph(_esc(row["role"] or ""), pack.styles.cell_small),
                ],
                str(row["influence"]),
                Stance(int(row["stance"])).label,
                Stance(int(row["desired_stance"])).label,
                blocks,
            ]
        )
    pack.table(
        ["Name and role", "Influence", "Stance", "Stance we want", "What they block"],
        rows,
        [25, 11, 14, 14, 36],
    )


def _metric_section(pack: _Pack, metrics: pd.DataFrame) -> None:
    pack.heading("Metrics")
    if metrics.empty:
        pack.para("This programme has no metrics yet.")
        return
    rows = []
    for metric in _records(metrics):
        unit = str(metric["unit"] or "")
        better = "higher" if str(metric["direction"]) == "up" else "lower"
        if _missing(metric["latest"]):
            latest: Any = "No readings yet"
        else:
            value = amount_text(float(metric["latest"]), unit)
            latest = _lines(f"{value}\non {_short_date(metric['latest_on'])}")
        by = "" if _missing(metric["target_date"]) else f"\nby {_short_date(metric['target_date'])}"
        attainment = (
            "Not defined" if _missing(metric["attainment"]) else _percent(metric["attainment"])
        )
        rows.append(
            [
                [
                    Paragraph(_esc(metric["name"]), pack.styles.cell_bold),
                    Paragraph(f"Aim: {better} is better", pack.styles.cell_small),
                ],
                amount_text(float(metric["baseline"]), unit),
                latest,
                _lines(f"{amount_text(float(metric['target']), unit)}{by}"),
                attainment,
            ]
        )
    pack.table(
        ["Metric", "Baseline", "Latest", "Target", "Attainment"],
        rows,
        [38, 14, 17, 17, 14],
    )
    pack.para(
        "Attainment is how far the latest reading has moved from the baseline towards the "
        "target: 0% at the baseline, 100% when the target is met.",
        pack.styles.small,
    )


def _barrier_section(pack: _Pack, session: Session, programme_id: int) -> None:
    pack.heading("Barriers")
    barriers = read.programme.open_barriers(session=session, programme_id=programme_id)
    if not barriers:
        pack.para("No open barriers.")
        return
    pack.para(f"{_plural(len(barriers), 'open barrier')}, highest score first.")
    rows = []
    for barrier in barriers:
        title: list[Flowable] = [Paragraph(_esc(barrier.title), pack.styles.cell_bold)]
        if barrier.mitigation:
            title.append(
                Paragraph(
                    f"Mitigation: {_esc(_clip(barrier.mitigation, 300))}", pack.styles.cell_small
                )
            )
        score = barrier.likelihood * barrier.impact
        rows.append(
            [
                title,
                _status_words(barrier.kind),
                CATEGORY_WORDS[BarrierCategory(barrier.category).value],
                _lines(
                    f"{barrier.likelihood} × {barrier.impact} = {score}\n"
                    f"{charts.barrier_band(barrier.likelihood, barrier.impact)}"
                ),
                _status_words(barrier.status),
                barrier.owner or "Not named",
            ]
        )
    pack.table(
        ["Barrier", "Kind", "Category", "Likelihood × impact", "Status", "Owner"],
        rows,
        [40, 8, 15, 13, 11, 13],
    )


def _chart_section(
    pack: _Pack,
    session: Session,
    viewer: Viewer,
    programme: read.programme.ProgrammeFacts,
    numbers: read.programme.ProgrammeFigures,
    metrics: pd.DataFrame,
    today: dt.date,
    hotspots_named: bool,
) -> None:
    programme_id = programme.programme_id
    pack.add(PageBreak())
    pack.heading("Charts")
    pack.para(
        "The dashboard's charts as of the date of this pack. Each has its summary beneath it.",
        pack.styles.small,
    )
    burnup = read.programme.burnup(session=session, programme_id=programme_id, today=today)
    p50 = numbers.forecast.p50 if numbers.forecast else None
    p85 = numbers.forecast.p85 if numbers.forecast else None
    target = programme.target_end_date
    pack.chart(
        _sized(
            charts.burnup_chart(
                burnup, forecast_p50=p50, forecast_p85=p85, target_end_date=target, today=today
            ),
            400,
            200,
        ),
        charts.burnup_summary(burnup, forecast_p50=p50, forecast_p85=p85, target_end_date=target),
    )
    history = read.programme.stance_history(session=session, programme_id=programme_id, today=today)
    pack.chart(
        _sized(charts.stance_history_chart(history), 380, 180),
        charts.stance_history_summary(history),
    )
    grid = read.programme.stakeholder_grid(
        session=session, viewer=viewer, programme_id=programme_id, named=False
    )
    pack.chart(
        _sized(charts.power_interest_chart(grid), 330, 210).configure_legend(orient="bottom"),
        charts.power_interest_summary(grid)
        + (
            " Only resistance hotspots are named; other stakeholders are shown as points."
            if hotspots_named
            else " " + permissions.NAMES_HELD_BY_OWNER
        ),
    )
    matrix = read.programme.barrier_matrix(session=session, programme_id=programme_id)
    pack.chart(
        charts.barrier_matrix_chart(matrix).properties(width=alt.Step(60), height=alt.Step(50)),
        charts.barrier_matrix_summary(matrix),
    )
    readings = read.programme.metric_readings(session=session, programme_id=programme_id)
    shown = [m for m in _records(metrics) if int(m["metric_id"]) in set(readings["metric_id"])]
    for metric in shown[:METRIC_CHARTS]:
        values = readings.loc[readings["metric_id"] == metric["metric_id"], ["reading_on", "value"]]
        details: dict[str, Any] = {
            "name": metric["name"],
            "unit": metric["unit"],
            "baseline": float(metric["baseline"]),
            "target": float(metric["target"]),
            "target_date": None if _missing(metric["target_date"]) else metric["target_date"],
            "direction": metric["direction"],
        }
        pack.chart(
            _sized(charts.metric_chart(values, **details), 360, 190),
            charts.metric_summary(values, **details),
        )
    if len(shown) > METRIC_CHARTS:
        pack.para(
            f"Charts are shown for the first {METRIC_CHARTS} of {len(shown)} metrics with "
            "readings; the Metrics table above covers them all.",
            pack.styles.small,
        )


# --- The portfolio pack ---------------------------------------------------------------------


def portfolio_pack(*, session: Session, viewer: Viewer, today: dt.date) -> bytes:
    """A board pack for every programme `viewer` may see, as a PDF (A4 landscape): a summary
    table (delivery confidence in words and symbols, progress, forecast against target, stance
    index and direction, hotspots, overdue), what needs a decision, and the change-load heatmap
    with its summary. The caller has checked the viewer may use the portfolio."""
    pack = _Pack(pagesize=landscape(A4))
    styles = pack.styles
    rows = read.portfolio.sort_portfolio(
        read.portfolio.portfolio_dashboard(session=session, viewer=viewer, today=today),
        read.portfolio.DEFAULT_SORT,
    )
    pack.para("Portfolio board pack", styles.eyebrow)
    pack.para("Delivery across the portfolio", styles.title)
    pack.para(f"Prepared {date_words(today)} for {_esc(viewer.name)}", styles.lead)
    names = read.portfolio.organisation_names(session=session, viewer=viewer)
    if names:
        pack.para(
            f"Covers every programme owned by {_esc(_and(names))}, or shared with "
            f"{'it' if len(names) == 1 else 'them'} by a partner."
        )
    _portfolio_summary(pack, rows)
    _decisions_section(pack, session, viewer, today)
    _change_load_section(pack, session, viewer, today)
    return pack.build(
        title="Portfolio board pack",
        footer=f"Portfolio board pack · Prepared {date_words(today)} for {_clip(viewer.name, 60)}",
    )


def _and(words: Sequence[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _portfolio_summary(pack: _Pack, rows: pd.DataFrame) -> None:
    styles = pack.styles
    pack.heading("Programmes")
    if rows.empty:
        pack.para("There are no programmes in your organisations yet.")
        return
    totals = read.portfolio.totals(rows)
    flagged = totals.needs_decision
    overdue = _plural(totals.overdue, "overdue milestone")
    hotspots = _plural(totals.hotspots, "resistance hotspot")
    pack.para(
        f"{_plural(len(rows), 'programme')}, worst delivery confidence first: {flagged} rated "
        f"Red or Amber/Red, {overdue} and {hotspots} in all."
    )
    pack.para(
        "Delivery confidence shows a symbol and a word as well as a colour: the fuller the "
        "circle, the higher the confidence. Progress is by milestone weight; the forecast is "
        "from the last 12 weeks' pace (P50 50% likely, P85 85% likely).",
        styles.small,
    )
    table_rows = []
    for row in _records(rows):
        owner = str(row["organisation"]) + (f" with {row['partners']}" if row["partners"] else "")
        verdicts: read.programme.Verdicts = row["verdicts"]
        explanation = verdicts.confidence
        table_rows.append(
            [
                [
                    Paragraph(_esc(row["title"]), styles.cell_bold),
                    Paragraph(_esc(f"{row['code']} · {owner}"), styles.cell_small),
                ],
                [
                    _RatingMark(explanation.rating),
                    Paragraph(_esc(explanation.source.label), styles.cell_small),
                ],
                _small_cell(explanation.summary),
                _percent(row["progress"]),
                _forecast_words(verdicts),
                _lines(
                    f"{_signed(verdicts.stance_index)}\n"
                    + (verdicts.direction.label if verdicts.direction else "No trend yet")
                ),
                str(row["hotspots"]),
                str(row["overdue"]),
            ]
        )
    pack.table(
        [
            "Programme",
            "Delivery confidence",
            "Why",
            "Progress",
            "Forecast finish against target",
            "Stance index, 90-day trend",
            "Hotspots",
            "Overdue",
        ],
        table_rows,
        [20, 12, 24, 8, 16, 9, 8, 7],
    )


def _small_cell(text: str) -> Paragraph:
    return Paragraph(_esc(text), _styles().cell_small)


def _signed(value: object) -> str:
    return "No assessments" if _missing(value) else f"{float(value):+.2f}"  # type: ignore[arg-type]


def _forecast_words(verdicts: read.programme.Verdicts) -> list[Paragraph]:
    target = _short_date(verdicts.target_end_date)
    forecast = verdicts.forecast
    if forecast is None:
        return _lines(f"{verdicts.forecast_verdict.label}\nTarget {target}")
    return _lines(
        f"{verdicts.forecast_verdict.label}\n"
        f"P50 {_short_date(forecast.p50)}, P85 {_short_date(forecast.p85)}; target {target}"
    )


def _decisions_section(pack: _Pack, session: Session, viewer: Viewer, today: dt.date) -> None:
    pack.heading("Needs a decision")
    decisions = read.portfolio.needs_decision(session=session, viewer=viewer, today=today)
    if decisions.empty:
        pack.para(
            "Nothing needs a decision: no Red or Amber/Red programme, blocking hotspot or "
            "overdue high-weight milestone."
        )
        return
    ratings = {rating.label: rating for rating in DeliveryConfidence}
    pack.table(
        ["What", "Programme", "Item", "Detail"],
        [
            [
                str(row["kind"]),
                str(row["programme"]),
                _RatingMark(ratings[str(row["item"])])
                if row["kind"] == read.portfolio.DECISION_CONFIDENCE
                else str(row["item"]),
                str(row["detail"]),
            ]
            for row in _records(decisions)
        ],
        [16, 22, 22, 40],
    )


def _change_load_section(pack: _Pack, session: Session, viewer: Viewer, today: dt.date) -> None:
    first_of_month = dt.date(today.year, today.month, 1)
    last_month = first_of_month - dt.timedelta(days=1)
    start = dt.date(last_month.year, last_month.month, 1)
    load, stance = read.portfolio.change_load_with_stance(
        session=session, viewer=viewer, start=start, months=CHANGE_LOAD_MONTHS, today=today
    )
    pack.add(PageBreak())
    pack.heading("Change load on staff groups")
    pack.para(
        "Weighted impact of the milestones due each month on each staff group, across all the "
        "programmes in this pack (low 1, medium 5, high 10), beside each group's stance now. "
        "Rows marked 'falling' are where heavy change meets hardening resistance.",
        pack.styles.small,
    )
    pack.chart(charts.change_load_chart(load, stance), charts.change_load_summary(load, stance))
