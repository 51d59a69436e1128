"""Text fitted to a box: wrapped, sized from a largest size down to a floor, cut if it must be.

    fitted = fit_text("Weekly plan", fonts, 900, 300, largest=120, floor=40)
    fitted.size, fitted.lines, fitted.height   # block-local: top = 0

Text is measured as it will be drawn (engine.text): each line is cut into runs, each
character in the first font of the chain (theme fonts → theme fallbacks → bundled
Inter → system fonts) that has it, ordered by the bidi algorithm and shaped by raqm.
A block's box spans every line's full metric height (ascent + descent of every font
the line uses, so a taller fallback font pushes lines apart) and its actual ink, plus
the room a legibility treatment needs, so nothing is ever clipped. A block that does
not fit its box wraps at word boundaries, then shrinks step by step; words longer
than a line are broken (between clusters) only when shrinking alone cannot help. The
breaks of the size that fits are then chosen again (engine.text.breaks): no short
word alone on a last line, breaks after punctuation where they cost little, and
titles balanced; a title's size and line count are chosen together (`fit_headline`),
so it is not set one word a line. A list of bullets shares one size (`Bullets`), and
is cut evenly (`cut_bullets`) when it cannot fit whole. At the size floor, what still
does not fit is cut with an ellipsis rather than drawn outside its box, and the
`FittedText` says so (`truncated`, `note`).

The work is bounded by the box, not by the text: a text longer than its box can ever
show (a line is at least half its size tall, a character a tenth of it wide) is cut
before it is parsed, ending in "…" (`itemize`); wrapping stops once there are more
lines than the box's height allows; and first fit finds each line's break from an
estimate of the advances, measuring a couple of candidate lines instead of the line
again after every word. So a 1 MB title costs what a 100 KB one does, and Pillow is
never handed much more than a line.

How a block is to be fitted (its box, sizes, spacing, line limit, balance) travels as
one `FitRequest`; what it is set in (paragraphs itemized into fonts, its own font,
legibility, accent) as one `Source`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .breaks import LineRef, is_orphan, refine, words, wrap
from .fallback import Para, Typeface, clusters
from .legibility import legibility_margins
from .markup import BOLD, Rich
from .markup import parse as parse_markup
from .runs import ShapedLine, shape_line
from .shaping import paragraph_rtl, raqm_status
from .typeface import FontSet, load_font

__all__ = [
    "ELLIPSIS",
    "MIN_PX",
    "PER_LINE",
    "BulletFit",
    "Bullets",
    "FitRequest",
    "FittedText",
    "Source",
    "cut_bullets",
    "fit_headline",
    "fit_text",
    "itemize",
    "share_bullets",
    "sizes",
    "try_fit",
]

log = logging.getLogger(__name__)

ELLIPSIS = "\u2026"

#: No text is ever set smaller than this many pixels, whatever the frame.
MIN_PX = 9
_SHRINK = 0.94  # each fitting step multiplies the size by this


@dataclass(frozen=True)
class FittedText:
    """Text wrapped and sized to fit a box, in block-local coordinates (top = 0)."""

    lines: tuple[str, ...]
    font: Path  # the block's own font
    size: int
    first_baseline: int  # from the block's top
    gap: int  # baseline to baseline in the block's own font (taller fallback fonts add to it)
    width: int  # widest line's ink extent, plus the legibility margins
    height: int  # top of the block to the lowest of descent and ink, plus the margins
    inks: tuple[tuple[int, int], ...]  # per line, ink x0..x1 relative to the pen
    truncated: bool = False
    baselines: tuple[int, ...] = ()  # per line, from the block's top
    shaped: tuple[ShapedLine, ...] = ()  # per line, its runs (engine.text.runs)
    rtl: tuple[bool, ...] = ()  # per line, whether its paragraph runs right to left
    margins: tuple[int, int, int, int] = (0, 0, 0, 0)  # legibility treatment around the ink: l, t, r, b
    legibility: str = "none"
    accent: str | None = None  # colour of [[accent]] spans
    missing: tuple[str, ...] = ()  # characters no font in the chain has
    unshaped: bool = False  # has text that needs raqm, which is not usable here
    note: str = ""  # what was given up when the text did not fit


@dataclass(frozen=True)
class Source:
    """A block's text itemized once per fit: its paragraphs, and what it is set in.

    `cut` says what `itemize` left out of a text longer than its box can ever show, for
    the warning ("has 1,000,000 characters, … only the first 17,424 were set"); "" when
    it left nothing out.
    """

    paras: tuple[Para, ...]
    font: Path  # the block's own font: line spacing comes from its metrics
    legibility: str
    accent: str | None
    cut: str = ""


# ── how much text a box can ever show ─────────────────────────────────────────────
#: No line is shorter than this (ems of its size): the smallest line height (0.7) × a
#: font's usual ascent + descent (about 1.2 em), with room to spare.
_LINE_EM = 0.5
#: No character takes less room than this on a line (ems): the narrowest glyphs (i, l,
#: punctuation, spaces) take about 0.25 em; marks and joiners, which take none, are
#: counted with the letters they sit on.
_CHAR_EM = 0.1
#: How much longer than what can show a text may be before markup is parsed: marks and
#: runs of spaces take characters that are not drawn.
_RAW_FACTOR = 4


def _most_shown(box_w: int, box_h: int, floor: int) -> tuple[int, int]:
    """At most how many lines, and characters in all, a box_w × box_h box shows of any text.

    `floor` is the smallest size the block is set at; a box less than two lines of it
    tall may be set smaller (`_truncate`), down to about a third of its height.
    """
    size = max(1, min(floor, box_h // 3))
    lines = max(1, box_h) // max(1, int(_LINE_EM * size)) + 1
    per_line = int(max(1, box_w) / (_CHAR_EM * size)) + 1
    return lines, lines * per_line


def itemize(
    text: str,
    font: Path | str | FontSet,
    *,
    bold: bool = False,
    upper: bool = False,
    legibility: str = "none",
    room: tuple[int, int, int] | None = None,
) -> Source:
    """`text` parsed (markup, letter case), cut into paragraphs and itemized.

    `room` is (box_w, box_h, smallest size) of the block: text beyond what such a box
    can ever show (`_most_shown`) is left out before anything else is done with it, and
    ends in "…". So the work is bounded by the box, whatever the text's length, and no
    string longer than a box can show reaches Pillow.
    """
    if isinstance(font, FontSet):
        typeface, markup, accent = font.typeface, font.options.markup, font.options.accent
        own = font.bold if bold else font.regular
    else:  # a lone font file: Inter and the system's fonts back it up, no markup
        typeface, markup, accent = Typeface(str(font), str(font)), False, None
        own = Path(font)
    most_lines, most_chars = _most_shown(*room) if room is not None else (None, None)
    raw = text if most_chars is None else text[: _RAW_FACTOR * most_chars]
    rich = parse_markup(raw) if markup else Rich.plain(raw)
    if upper:
        rich = rich.upper()
    paragraphs = [p.squeeze() for p in rich.split_lines(most_lines)]
    cut = len(raw) < len(text) or (most_lines is not None and rich.text.count("\n") >= most_lines)
    if most_chars is not None:
        kept, budget = [], most_chars
        for paragraph in paragraphs:
            if len(paragraph) > budget:
                paragraph, cut = paragraph[:budget], True
            kept.append(paragraph)
            budget -= len(paragraph)
            if budget <= 0:
                break
        cut = cut or len(kept) < len(paragraphs)
        paragraphs = kept
    note = ""
    if cut:  # the last paragraph kept ends in "…"
        shown = sum(len(p) for p in paragraphs) + len(paragraphs) - 1  # and the line breaks between
        note = f"has {len(text):,} characters, more than its box can ever show; only the first {shown:,} were set"
        last = paragraphs[-1]
        paragraphs[-1] = last + Rich.plain(ELLIPSIS, last.flags[-1] if len(last) else 0)
    directions = [paragraph_rtl(p.text) for p in paragraphs]
    default = next((d for d in directions if d is not None), False)
    paras = []
    for paragraph, rtl in zip(paragraphs, directions):
        default = default if rtl is None else rtl
        paras.append(Para.build(typeface, paragraph, default, BOLD if bold else 0))
    return Source(tuple(paras), own, legibility, accent, note)


def _width(line: LineRef, size: int) -> int:
    return shape_line(*line, size).width


def _measure(
    lines: Sequence[LineRef], src: Source, size: int, spacing: float, tight: bool = False, truncated: bool = False
) -> FittedText:
    ascent, descent = load_font(src.font, size).getmetrics()
    gap = round(spacing * (ascent + descent))
    shaped = [shape_line(*line, size) for line in lines]
    top = 0 if not tight else None
    bottom = 0
    inks, baselines = [], []
    base = 0
    for i, line in enumerate(shaped):
        if i == 0:
            base = max(ascent, line.ascent)
        else:  # a line in a taller font (Arabic, Devanagari) pushes its neighbours apart
            base += gap + max(0, shaped[i - 1].descent - descent) + max(0, line.ascent - ascent)
        baselines.append(base)
        x0, y0, x1, y1 = line.ink
        inks.append((min(0, x0), x1))
        if line.text:
            top = base + y0 if top is None else min(top, base + y0)
            bottom = max(bottom, base + y1)
        if not tight:
            bottom = max(bottom, base + line.descent)
    top = top or 0
    ml, mt, mr, mb = legibility_margins(src.legibility, size)
    width = max((x1 - x0 for x0, x1 in inks), default=0)
    return FittedText(
        tuple(line.text for line in shaped),
        src.font,
        size,
        baselines[0] - top + mt if baselines else ascent + mt,
        gap,
        width + ml + mr,
        bottom - top + mt + mb,
        tuple(inks),
        truncated or bool(src.cut),
        tuple(b - top + mt for b in baselines),
        tuple(shaped),
        tuple(para.rtl for para, _, _ in lines),
        (ml, mt, mr, mb),
        src.legibility,
        src.accent,
        tuple(dict.fromkeys(m for line in shaped for m in line.missing)),
        any(line.complex for line in shaped) and not raqm_status().usable,
        src.cut,
    )


def sizes(largest: int, floor: int) -> Iterator[int]:
    """The sizes fitting tries, from `largest` down to `floor`, each a step smaller."""
    size = largest
    while size > floor:
        yield size
        size = max(floor, min(size - 1, int(size * _SHRINK)))
    yield floor


def _fits(m: FittedText, box_w: int, box_h: int) -> bool:
    return m.width <= box_w and m.height <= box_h


def _inner_width(src: Source, size: int, box_w: int) -> int:
    ml, _, mr, _ = legibility_margins(src.legibility, size)
    return max(1, box_w - ml - mr)


def _line_limit(src: Source, size: int, spacing: float, box_h: int, tight: bool = False) -> int | None:
    """The most lines of `src` at `size` that can be box_h tall or less (None: no bound).

    Every line but the first adds at least a line gap, and the first and last add the
    font's ascent and descent (`_measure`), so more lines than this never fit: wrapping
    stops there instead of setting the rest of a text that cannot fit anyway.
    """
    if tight:  # ink only: an empty line takes no room
        return None
    ascent, descent = load_font(src.font, size).getmetrics()
    gap = round(spacing * (ascent + descent))
    _, mt, _, mb = legibility_margins(src.legibility, size)
    room = box_h - ascent - descent - mt - mb
    if room < 0:
        return 0
    return None if gap <= 0 else room // gap + 1


def _least(*limits: int | None) -> int | None:
    """The smallest of the limits that are set (None when none is)."""
    known = [n for n in limits if n is not None]
    return min(known) if known else None


@dataclass(frozen=True)
class FitRequest:
    """How one block is to be fitted: its box, the sizes it may take, and how its lines are set.

    `spacing` is baseline to baseline in lines of the font's height; `max_lines` caps
    the lines (None: the box decides); `balance` evens the lines out (titles); `tight`
    measures ink only (decorative glyphs).
    """

    box_w: int
    box_h: int
    largest: int
    floor: int
    spacing: float = 1.0
    max_lines: int | None = None
    balance: bool = False
    tight: bool = False


def fit_text(
    text: str,
    font: Path | str | FontSet,
    box_w: int,
    box_h: int,
    largest: int,
    floor: int,
    *,
    spacing: float = 1.0,
    max_lines: int | None = None,
    balance: bool = False,
    tight: bool = False,
    bold: bool = False,
    upper: bool = False,
    legibility: str = "none",
) -> FittedText:
    """Wrap and size `text` to fit box_w × box_h, from `largest` down to `floor` px.

    `font` is a deck's `FontSet` (markup, fallback chain, theme options) or one font
    file. Every measure is of the runs that will be drawn, fallback fonts included.
    Words are broken mid-word only when no size down to the floor fits without it.
    At the floor, lines that still do not fit are dropped and the last kept line ends
    in an ellipsis (`truncated`, with a `note` of what was cut). `tight` measures ink
    only (for decorative glyphs).
    """
    floor = max(MIN_PX, min(floor, largest))
    src = itemize(text, font, bold=bold, upper=upper, legibility=legibility, room=(box_w, box_h, floor))
    request = FitRequest(box_w, box_h, largest, floor, spacing, max_lines, balance, tight)
    fitted = try_fit(src, request)
    if fitted is not None:
        return fitted
    return _truncate(src, request)


def try_fit(src: Source, req: FitRequest) -> FittedText | None:
    """The largest size from `req.largest` down to `req.floor` that fits; None if none does.

    The size is found with first-fit wraps (the fewest lines); the breaks of the one
    that fits are then chosen again (`engine.text.breaks.refine`): no orphans, breaks
    after punctuation, balanced lines when `req.balance`.
    """
    for break_words in (False, True):
        for size in sizes(req.largest, req.floor):
            width = _inner_width(src, size, req.box_w)
            most = _least(req.max_lines, _line_limit(src, size, req.spacing, req.box_h, req.tight))
            lines = _wrap(src, size, width, break_words, most)
            if lines is None or (most is not None and len(lines) > most):
                continue
            m = _measure(lines, src, size, req.spacing, req.tight)
            if _fits(m, req.box_w, req.box_h):
                return _refined(m, lines, src, width, req)
    return None


#: A headline's score (`fit_headline`) is its size times this (or the role's own) for
#: each line after the first...
PER_LINE = 0.85
#: ...and this for each line of a single short word (a longer one: the second), and
#: again for an orphan at its end.
_PER_LONE_WORD = (0.8, 0.92)
_PER_ORPHAN = 0.8


def fit_headline(src: Source, req: FitRequest, per_line: float = PER_LINE) -> FittedText | None:
    """A title's size and line count, chosen together: large, but in few lines of several words.

    For each line count, the largest size that sets it in the box (balanced); the one
    scoring best wins: size × `per_line` per line after the first × ``_PER_LONE_WORD``
    per line of one word (× ``_PER_ORPHAN`` more for an orphan). So "Shop | once, |
    cook | twice, | eat well" at full size gives way to "Shop once, | cook twice, |
    eat well" a little smaller, and a title does not stand one word a line. None when
    no size fits without breaking a word. A headline is always balanced and measured
    by its full line heights, whatever `req.balance` and `req.tight` say.
    """
    best, best_score = None, 0.0
    seen: set[int] = set()
    many_words = sum(len(words(p.text)) for p in src.paras) > len(src.paras)
    balanced = replace(req, balance=True, tight=False)
    for size in sizes(req.largest, req.floor):
        width = _inner_width(src, size, req.box_w)
        most = _least(req.max_lines, _line_limit(src, size, req.spacing, req.box_h))
        lines = _wrap(src, size, width, False, most)
        if lines is None or (most is not None and len(lines) > most) or len(lines) in seen:
            continue
        m = _measure(lines, src, size, req.spacing)
        if not _fits(m, req.box_w, req.box_h):
            continue
        seen.add(len(lines))
        m = _refined(m, lines, src, width, balanced)
        score = size * per_line ** (len(lines) - 1)
        for line in m.lines if many_words else ():
            if len(words(line)) == 1:
                score *= _PER_LONE_WORD[0] if is_orphan(line) else _PER_LONE_WORD[1]
        if len(m.lines) > 1 and is_orphan(m.lines[-1]):
            score *= _PER_ORPHAN
        if score > best_score:
            best, best_score = m, score
        if len(lines) == 1:
            break  # fewer lines cannot be
    return best


def _wrap(src: Source, size: int, width: int, break_words: bool, max_lines: int | None = None) -> list[LineRef] | None:
    return wrap(src.paras, size, width, break_words, max_lines)


#: A text cut to fit is wrapped whole, to say of how many lines it kept how many, when
#: it has no more characters than this; a longer one only as far as `_enough` says.
_COUNTED_CHARS = 2500


def _enough(src: Source, limit: int | None) -> int | None:
    """Lines worth wrapping of a text cut to fit (None: all): a few times the `limit` that can show."""
    if limit is None or sum(len(p.text) for p in src.paras) <= _COUNTED_CHARS:
        return None
    return 4 * limit + 8


def _of_lines(lines: Sequence[LineRef], wrapped_to: int | None) -> str:
    """ "5 lines", or "more than 40 lines" where wrapping stopped at `wrapped_to`."""
    if wrapped_to is not None and len(lines) > wrapped_to:
        return f"more than {wrapped_to} lines"
    return f"{len(lines)} lines"


def _refined(fitted: FittedText, lines: list[LineRef], src: Source, width: int, req: FitRequest) -> FittedText:
    """`fitted` with its breaks chosen again, where the new lines still fit `req`'s box."""
    better = refine(lines, fitted.size, width, req.balance)
    if better == lines:
        return fitted
    m = _measure(better, src, fitted.size, req.spacing, req.tight, fitted.truncated)
    return m if _fits(m, req.box_w, req.box_h) else fitted


def _truncate(src: Source, req: FitRequest) -> FittedText:
    """`src` cut at the floor to the lines that fit, the last ending in "…" (below the floor
    only in a box too small for one line)."""
    box_w, box_h, spacing, max_lines, tight = req.box_w, req.box_h, req.spacing, req.max_lines, req.tight
    size = req.floor
    empty: list[LineRef] = [(src.paras[0], 0, 0)]
    lines = _wrap(src, size, _inner_width(src, size, box_w), True, 1) or empty
    # A box too small for even one line at the floor: go below the floor, not outside.
    while size > 1 and _measure(lines[:1], src, size, spacing, tight).height > box_h:
        size -= 1
        lines = _wrap(src, size, _inner_width(src, size, box_w), True, 1) or empty
    limit = _line_limit(src, size, spacing, box_h, tight)
    enough = _enough(src, _least(max_lines, limit))
    lines = _wrap(src, size, _inner_width(src, size, box_w), True, enough) or empty
    keep = len(lines) if max_lines is None else min(len(lines), max_lines)
    keep = keep if limit is None else max(1, min(keep, limit))  # more than `limit` lines never fit
    while keep > 1 and _measure(lines[:keep], src, size, spacing, tight).height > box_h:
        keep -= 1
    kept = lines[:keep]
    if keep < len(lines):
        kept[-1] = _with_ellipsis(kept[-1], size, _inner_width(src, size, box_w))
    note = f"does not fit its {box_w}×{box_h} px box even at {size} px; cut to {keep} of {_of_lines(lines, enough)}"
    if src.cut:
        note = f"{note}; it {src.cut}"
    text = " / ".join(p.text for p in src.paras)
    # A warning only where the text's slide is known: SlideLayout.warnings names it.
    log.debug("text %s: %.60r", note, text)
    fitted = _measure(kept, src, size, spacing, tight, truncated=True)
    return replace(fitted, note=note)


def _with_ellipsis(line: LineRef, size: int, width: int) -> LineRef:
    """`line` cut back until it fits with "…" after it: a word at a time, else a cluster at a time."""
    para, start, end = line
    text = para.text
    word_ends = [i for i in range(start + 1, end) if text[i] == " " and not text[i - 1].isspace()]
    for stop in reversed(word_ends):
        flag = para.rich.flags[stop - 1]
        rich = para.rich[start:stop] + Rich.plain(ELLIPSIS, flag)
        cut = Para.build(para.typeface, rich, para.rtl, para.base)
        if _width((cut, 0, len(rich)), size) <= width:
            return (cut, 0, len(rich))
    ends = [start] + [start + e for _, e in clusters(text[start:end])]
    for k in range(len(ends) - 1, -1, -1):
        stop = ends[k]
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        flag = para.rich.flags[stop - 1] if stop > start else para.base
        rich = para.rich[start:stop] + Rich.plain(ELLIPSIS, flag)
        cut = Para.build(para.typeface, rich, para.rtl, para.base)
        if k == 0 or _width((cut, 0, len(rich)), size) <= width:
            return (cut, 0, len(rich))
    raise AssertionError("unreachable")  # k == 0 always returns


# ── a list of bullets, set at one shared size ─────────────────────────────────────

#: What a cut or shortened bullet is told to (the layout notes it in the slide's warnings):
#: called with the bullet's text and its fitted block, it returns the block.
Check = Callable[[str, FittedText], FittedText]


@dataclass(frozen=True)
class BulletFit:
    """Every bullet fitted at one `size`, indented by `indent`, `item_gap` apart: `height` in all."""

    fits: tuple[FittedText, ...]
    size: int
    indent: int
    item_gap: int
    height: int


@dataclass(frozen=True)
class Bullets:
    """A slide's bullets itemized once, and how they are set (the theme's options).

    `spacing`, `upper` and `legibility` are as `fit_text` takes them; every bullet is
    set at one size from `largest` down to `floor`.
    """

    texts: tuple[str, ...]
    sources: tuple[Source, ...]
    fonts: FontSet
    spacing: float
    upper: bool
    legibility: str
    largest: int
    floor: int

    @staticmethod
    def of(
        texts: Sequence[str],
        fonts: FontSet,
        largest: int,
        floor: int,
        room: tuple[int, int],
        *,
        spacing: float,
        upper: bool,
        legibility: str,
    ) -> Bullets:
        """`texts` itemized, each cut to what a `room` (width, height) box can ever show."""
        room_w, room_h = room
        bounds = (room_w - round(floor * 1.05), room_h, floor)  # a bullet has at most the whole box
        sources = tuple(itemize(text, fonts, upper=upper, legibility=legibility, room=bounds) for text in texts)
        return Bullets(tuple(texts), sources, fonts, spacing, upper, legibility, largest, floor)

    def at(
        self, size: int, box_w: int, break_words: bool, refine_lines: bool = False, box_h: int | None = None
    ) -> BulletFit | None:
        """Every bullet wrapped at `size`; None if a word is wider than a line and may not be
        broken, or (given `box_h`) as soon as they are taller than that."""
        got = self._stack(size, box_w, break_words, refine_lines, box_h)
        return got if isinstance(got, BulletFit) else None

    def _stack(
        self, size: int, box_w: int, break_words: bool, refine_lines: bool, box_h: int | None
    ) -> BulletFit | str:
        """`at`, or why not: "wide" (a word wider than a line) or "tall" (taller than `box_h`)."""
        indent = round(size * 1.05)
        fits: list[FittedText] = []
        item_gap = total = 0
        for src in self.sources:
            width = _inner_width(src, size, box_w - indent)
            most = None
            if box_h is not None:  # the room left for this bullet, below the ones before it
                most = _line_limit(src, size, self.spacing, box_h - total - (item_gap if fits else 0))
            lines = _wrap(src, size, width, break_words, most)
            if lines is None:
                return "wide"
            if most is not None and len(lines) > most:
                return "tall"
            m = _measure(lines, src, size, self.spacing)
            if m.width > box_w - indent:
                return "wide"
            if refine_lines:  # better breaks (no orphans, after punctuation) at the same height
                m = _refined(m, lines, src, width, FitRequest(box_w - indent, m.height, size, size, self.spacing))
            if not fits:
                item_gap = round(m.gap * 0.5)
            total += m.height + (item_gap if fits else 0)
            fits.append(m)
            if box_h is not None and total > box_h:
                return "tall"
        return BulletFit(tuple(fits), size, indent, item_gap, total)

    def fit(self, box_w: int, box_h: int) -> BulletFit | None:
        """One shared size for every bullet, the largest at which all of them fit whole; None if none does.

        Words are broken only when no size fits without it.
        """
        for size in sizes(self.largest, self.floor):
            if self.at(size, box_w, False, box_h=box_h) is not None:
                return self.at(size, box_w, False, refine_lines=True)
        if self.at(self.floor, box_w, True, box_h=box_h) is None:
            return None  # not even the smallest, words broken, fits
        for size in sizes(self.largest, self.floor):
            if self.at(size, box_w, True, box_h=box_h) is not None:
                return self.at(size, box_w, True, refine_lines=True)
        return None

    def need(self, box_w: int, box_h: int) -> int:
        """The height every bullet needs, whole, at the smallest size: more than `box_h` is all
        that is known of bullets taller than that (0 when a character is wider than a line)."""
        got = self._stack(self.floor, box_w, True, False, box_h)
        if isinstance(got, BulletFit):
            return got.height
        return box_h + 1 if got == "tall" else 0


def cut_bullets(bullets: Bullets, box_w: int, box_h: int, under_heading: bool, check: Check) -> BulletFit:
    """Bullets too long for the room even at the smallest size: as many lines of each as fit, cut with "…".

    Lines are shared out a round at a time (each bullet one more line while the room
    allows), so short bullets stay whole and long ones are cut evenly, and no room is
    left empty. Every cut bullet (and every whole one whose text was longer than any box
    shows) is handed to `check`, in order.
    """
    size = bullets.floor
    indent = round(size * 1.05)
    spacing = bullets.spacing
    wraps = []
    enough = []  # lines wrapped of each bullet: all of them, or enough to know it is cut
    for src in bullets.sources:
        width = _inner_width(src, size, box_w - indent)
        enough.append(_enough(src, _line_limit(src, size, spacing, box_h)))
        wraps.append((src, width, _wrap(src, size, width, True, enough[-1]) or [(src.paras[0], 0, 0)]))
    heights: dict[tuple[int, int], int] = {}

    def height(i: int, keep: int) -> int:
        if (i, keep) not in heights:
            src, _, lines = wraps[i]
            heights[i, keep] = _measure(lines[:keep], src, size, spacing).height
        return heights[i, keep]

    ascent, descent = load_font(bullets.sources[0].font, size).getmetrics()
    item_gap = round(round(spacing * (ascent + descent)) * 0.5)
    keep = [1] * len(wraps)
    total = sum(height(i, 1) for i in range(len(wraps))) + item_gap * (len(wraps) - 1)
    if total > box_h:
        return share_bullets(bullets, box_w, box_h, item_gap, check)
    grown = True
    while grown:
        grown = False
        for i, (_, _, lines) in enumerate(wraps):
            if keep[i] < len(lines):
                more = total - height(i, keep[i]) + height(i, keep[i] + 1)
                if more <= box_h:
                    keep[i], total, grown = keep[i] + 1, more, True
    fits = []
    for i, (src, width, lines) in enumerate(wraps):
        if keep[i] == len(lines):
            m = _measure(lines, src, size, spacing)
            fits.append(_refined(m, lines, src, width, FitRequest(box_w - indent, m.height, size, size, spacing)))
            if src.cut:
                check(bullets.texts[i], fits[-1])
            continue
        kept = lines[: keep[i]]
        kept[-1] = _with_ellipsis(kept[-1], size, width)
        where = "beside the other bullets" + (" under the smallest heading" if under_heading else "")
        note = f"does not fit {where} even at {size} px; cut to {keep[i]} of {_of_lines(lines, enough[i])}"
        note = f"{note}; it {src.cut}" if src.cut else note
        m = replace(_measure(kept, src, size, spacing, truncated=True), note=note)
        fits.append(check(bullets.texts[i], m))
    total = sum(m.height for m in fits) + item_gap * (len(fits) - 1)
    return BulletFit(tuple(fits), size, indent, item_gap, total)


def share_bullets(bullets: Bullets, box_w: int, box_h: int, item_gap: int, check: Check) -> BulletFit:
    """Not even a line of each fits: each bullet gets an equal share, below the floor if it must."""
    floor = bullets.floor
    indent = round(floor * 1.05)
    share = max(1, (box_h - item_gap * (len(bullets.texts) - 1)) // max(1, len(bullets.texts)))
    fits = []
    for text in bullets.texts:
        m = fit_text(
            text,
            bullets.fonts,
            box_w - indent,
            share,
            floor,
            floor,
            spacing=bullets.spacing,
            upper=bullets.upper,
            legibility=bullets.legibility,
        )
        fits.append(check(text, m))
    size = min(m.size for m in fits)
    total = sum(m.height for m in fits) + item_gap * (len(fits) - 1)
    return BulletFit(tuple(fits), size, indent, item_gap, total)
