"""Text layout under hostile input: work bounded by the box, whatever the text's length.

Issue 11 found layouts that never finished: 8 bullets of 100 KB, a text of 100,000
newlines, ``**`` 50,000 times, and a 1 MB title that Pillow refused ("too many
characters in string"). The layout is on trial here, not the deck's limits on string
length (engine/limits.py): slides are laid out directly.

Work is counted rather than timed (the machines are shared): every string the text
engine hands Pillow to measure is counted, and Pillow is made to refuse any string
longer than a line could ever be. A text ten times longer costs no more once it is
longer than its box can show. A generous wall-clock bound is kept for one run of the
real `reel still`, in a subprocess.

Wrapping finds each line's break from an estimate and settles it with a couple of
measures; the breaks must be exactly those of measuring word by word (the reference
first fit below), so ordinary text is laid out as before.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import ImageFont

from engine import text as text_engine
from engine.layout import layout_slide
from engine.platforms import resolve_output
from engine.resources import font_path
from engine.spec import BulletsSlide, ImageSlide, TextSlide, Theme, TitleSlide
from engine.text.breaks import words, wrap
from engine.text.fallback import Para, Typeface, clusters
from engine.text.fit import ELLIPSIS
from engine.text.markup import Rich, parse
from engine.text.runs import shape_line
from engine.text.shaping import paragraph_rtl
from engine.text.typeface import resolve_fonts

ROOT = Path(__file__).resolve().parents[1]
FONTS = Path(__file__).parent / "data" / "fonts"
MB = 1_000_000
WORDS = ("lorem ipsum dolor sit amet " * (MB // 27 + 1))[:MB]
PICTURE = ROOT / "examples" / "assets" / "plate.png"

#: No string handed to Pillow may be longer than this (it refuses 1,000,000): a line of
#: a 1920-pixel frame at the smallest size holds a few hundred characters.
LONGEST = 2_000


class Counted:
    """Every string the text engine hands Pillow to measure, while installed."""

    def __init__(self) -> None:
        self.calls = self.chars = self.longest = 0

    def wrap(self, method):
        def counted(font, text, *args, **kwargs):
            self.calls += 1
            self.chars += len(text)
            self.longest = max(self.longest, len(text))
            return method(font, text, *args, **kwargs)

        return counted


@pytest.fixture
def counted(monkeypatch) -> Counted:
    """Pillow's measures counted, from cold caches, and refusing strings longer than `LONGEST`."""
    text_engine.clear_caches()
    count = Counted()
    for name in ("getlength", "getbbox"):
        monkeypatch.setattr(ImageFont.FreeTypeFont, name, count.wrap(getattr(ImageFont.FreeTypeFont, name)))
    monkeypatch.setattr(ImageFont, "MAX_STRING_LENGTH", LONGEST)
    yield count
    text_engine.clear_caches()


@pytest.fixture(scope="module")
def fonts():
    return resolve_fonts(Theme(system_fonts=False))  # bundled Inter only: the same on every machine


def lay(slide, fonts, platform: str = "youtube"):
    output = resolve_output(platform)
    box = tuple(int(v) for v in output.safe_area.box(output.width, output.height))
    return layout_slide(slide, fonts, output.width, output.height, box)


HOSTILE = {
    "8 bullets of 100 KB": BulletsSlide(title="Plan", bullets=[WORDS[:100_000]] * 8),
    "100,000 newlines": TextSlide(style="paragraph", text="a" + "\n" * 100_000 + "b"),
    "** 50,000 times": TextSlide(style="paragraph", text="**" * 50_000),
    "1 MB title of one word": TitleSlide(title="x" * MB, subtitle=None),
    "1 MB title and subtitle": TitleSlide(title=WORDS, subtitle=WORDS),
    "1 MB caption": ImageSlide(file=PICTURE, fit="contain", caption=WORDS),
    "1 MB quote": TextSlide(style="quote", text=WORDS, attribution=WORDS),
    "1 MB big text": TextSlide(style="big", text=WORDS),
    "100 KB of CJK no font has": TextSlide(style="paragraph", text="漢字かな" * 25_000),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_text_is_laid_out_with_work_bounded_by_the_box(case, counted, fonts):
    layout = lay(HOSTILE[case], fonts)

    # A few hundred measures of at most a line each, where measuring word by word
    # re-measured the whole text for every candidate size (millions of characters).
    assert counted.calls < 2_000 and counted.chars < 100_000, (counted.calls, counted.chars)
    assert counted.longest <= LONGEST
    left, top, right, bottom = layout.content_box
    for block in layout.blocks:
        assert left <= block.box[0] and block.box[2] <= right and top <= block.box[1] and block.box[3] <= bottom
    # What was given up is said, naming the slide.
    assert layout.warnings and all(w.startswith(f"{HOSTILE[case].kind} slide") for w in layout.warnings)
    assert any("cut to" in w or "more than its box can ever show" in w for w in layout.warnings)


def test_ten_times_the_text_costs_no_more_once_it_is_more_than_the_box_shows(counted, fonts):
    work = {}
    for length in (100_000, MB):
        text_engine.clear_caches()
        counted.calls = counted.chars = 0
        layout = lay(TitleSlide(title=WORDS[:length], subtitle=None), fonts)
        work[length] = (counted.calls, counted.chars, layout.block("title").lines)
    assert work[MB] == work[100_000]


def test_a_text_longer_than_its_box_can_show_is_cut_with_an_ellipsis_and_a_warning(fonts):
    layout = lay(TextSlide(style="paragraph", text=WORDS), fonts)
    (warning,) = layout.warnings
    assert "has 1,000,000 characters, more than its box can ever show; only the first" in warning
    body = layout.block("body")
    assert body.truncated and body.lines[-1].text.endswith(ELLIPSIS)
    assert len(warning) < 400


def test_bullets_too_long_for_any_box_are_cut_and_each_named(fonts):
    bullets = [f"Bullet {i}: " + WORDS[:20_000] for i in range(8)]
    layout = lay(BulletsSlide(title="Plan", bullets=bullets), fonts)
    blocks = [b for b in layout.blocks if b.role == "bullet"]
    assert len(blocks) == 8 and all(b.truncated for b in blocks)
    assert {w.split('bullet "')[1][:8] for w in layout.warnings} == {f"Bullet {i}" for i in range(8)}


def test_a_text_that_fits_is_not_cut(fonts):
    text = WORDS[:300]
    layout = lay(TextSlide(style="paragraph", text=text), fonts)
    assert layout.warnings == ()
    assert " ".join(line.text for line in layout.block("body").lines) == text.strip()


def test_markup_parses_in_linear_time_and_lines_split_lazily():
    rich = parse("**" * 50_000)
    assert set(rich.text) == {"*"}
    lines = Rich.plain("a\n" * 100_000).split_lines(3)
    assert [line.text for line in lines] == ["a", "a", "a"]
    assert [line.text for line in Rich.plain("a\nb\n").split_lines()] == ["a", "b", ""]


def test_reel_still_sets_a_1_mb_title_and_8_bullets_of_100_kb_in_bounded_time(tmp_path):
    """The real command, with the deck's string limits raised so that the layout is on trial."""
    deck = {
        "slides": [
            {"kind": "title", "title": "x" * MB, "duration": 1},
            {"kind": "bullets", "title": "Plan", "bullets": [WORDS[:100_000]] * 8, "duration": 1},
        ],
    }
    path = tmp_path / "deck.json"
    path.write_text(json.dumps(deck))
    env = dict(
        os.environ,
        REEL_MAX_STRING_CHARS=str(2 * MB),
        REEL_MAX_SLIDE_CHARS=str(2 * MB),
        REEL_MAX_DECK_BYTES=str(10 * MB),
    )
    for at, slide in (("0.2", "title slide"), ("1.3", "bullets slide")):  # a 0.5 s fade from 0.5 s
        out = tmp_path / f"still-{at}.png"
        done = subprocess.run(
            [sys.executable, "-m", "engine.cli", "still", str(path), "--at", at, "-p", "320x180", "-o", str(out)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,  # generous: shared machines
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert out.is_file()
        warnings = done.stderr.strip().splitlines()
        assert warnings and all(
            line.startswith(f"reel: warning: slides[{int(float(at))}]: {slide}") for line in warnings
        )
        assert "Traceback" not in done.stderr and all(len(line) < 1_000 for line in warnings)


# ── wrapping: the same breaks as measuring word by word ───────────────────────────


def _reference_wrap(paras, size: int, width: int, break_words: bool):
    """First fit measuring the line again after every word (and every cluster of a word too long)."""

    def fits(para, a, b):
        return shape_line(para, a, b, size).width <= width

    lines = []
    for para in paras:
        text = para.text
        start = end = None
        for ws, we in words(text):
            if start is not None and fits(para, start, we):
                end = we
                continue
            if start is not None:
                lines.append((para, start, end))
                start = None
            if fits(para, ws, we):
                start, end = ws, we
                continue
            if not break_words:
                return None
            pieces, a, b = [], ws, ws
            for cs, ce in clusters(text[ws:we]):
                ce = ws + ce
                if b > a and not fits(para, a, ce):
                    current = text[a:b]
                    cut = max(current.rfind("-"), current.rfind("/")) + 1
                    if cut < len(current) // 3:
                        cut = len(current)
                    pieces.append((a, a + cut))
                    a += cut
                b = ce
            pieces.append((a, b))
            lines.extend((para, x, y) for x, y in pieces[:-1])
            start, end = pieces[-1]
        lines.append((para, start or 0, end or 0))
    return lines


VOCABULARY = [
    "a",
    "I",
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "dog,",
    "wwwwwwwwwwww",
    "iiiiii",
    "—",
    "·",
    "**bold**",
    "*it*",
    "[[acc]]",
    "Supercalifragilistic-expialidocious",
    "x/y/z/w-q-r-s-t",
    "AVAVAV",
    "ffi",
    "زبادي",
    "التوت",
    "יוגורט",
    "日本語の文章です。",
    "नमस्ते",
    "😀👍🏽",
    "123,456",
]


def test_wrap_breaks_exactly_where_measuring_word_by_word_does():
    typeface = Typeface(
        str(font_path("Inter-Regular.otf")),
        str(font_path("Inter-Bold.otf")),
        None,
        None,
        tuple(
            str(FONTS / name)
            for name in (
                "NotoSansArabic-subset.ttf",
                "NotoSansHebrew-subset.ttf",
                "NotoSansJP-subset.otf",
                "NotoSansDevanagari-subset.ttf",
                "NotoColorEmoji-subset.ttf",
            )
        ),
        False,
    )
    rng = random.Random(11)
    for _ in range(60):
        picked = [rng.choice(VOCABULARY) for _ in range(rng.randint(1, 30))]
        text = " ".join(picked) if rng.random() < 0.8 else "".join(picked)
        rich = parse(text).squeeze()
        para = Para.build(typeface, rich, bool(paragraph_rtl(rich.text)), rng.choice([0, 1]))
        size, width = rng.choice([9, 14, 24, 40, 77]), rng.choice([40, 150, 300, 600, 1200])
        break_words = rng.random() < 0.6
        expected = _reference_wrap([para], size, width, break_words)
        assert wrap([para], size, width, break_words) == expected, (text, size, width, break_words)
        if expected is not None and len(expected) > 2:  # stopping early keeps the lines before
            assert wrap([para], size, width, break_words, max_lines=2)[:2] == expected[:2]
            assert len(wrap([para], size, width, break_words, max_lines=2)) == 3
