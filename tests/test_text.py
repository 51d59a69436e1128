"""engine.text: markup, bidi, font files, fallback chains, fontconfig, theme text options.

Fonts for other scripts are the small Noto subsets in tests/data/fonts (made by
scripts/make_test_fonts.py), named as the theme's fallback fonts with system fonts
off, so nothing depends on what the machine has installed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.errors import AssetError, SpecError
from engine.resources import font_path
from engine.spec import load_deck
from engine.text import clear_caches, diagnose_text
from engine.text.breaks import is_orphan, refine, words, wrap
from engine.text.fallback import Para, Typeface, clusters, is_emoji_cluster
from engine.text.fit import fit_text
from engine.text.fonts import system_fonts
from engine.text.markup import ACCENT, BOLD, ITALIC, Rich, parse
from engine.text.runs import shape_line, strike_for
from engine.text.sfnt import FontFileError, font_facts
from engine.text.shaping import bidi_levels, detect_language, paragraph_rtl, raqm_status, visual_order
from engine.text.typeface import FontSet, TextOptions, resolve_fonts

FONTS = Path(__file__).parent / "data" / "fonts"
ARABIC = FONTS / "NotoSansArabic-subset.ttf"
HEBREW = FONTS / "NotoSansHebrew-subset.ttf"
DEVANAGARI = FONTS / "NotoSansDevanagari-subset.ttf"
THAI = FONTS / "NotoSansThai-subset.ttf"
JAPANESE = FONTS / "NotoSansJP-subset.otf"
EMOJI = FONTS / "NotoColorEmoji-subset.ttf"
ALL = (ARABIC, HEBREW, DEVANAGARI, THAI, JAPANESE, EMOJI)
INTER = font_path("Inter-Regular.otf")
INTER_BOLD = font_path("Inter-Bold.otf")


def typeface(*fallbacks: Path, system: bool = False) -> Typeface:
    return Typeface(str(INTER), str(INTER_BOLD), fallbacks=tuple(str(f) for f in fallbacks), system=system)


def runs_of(text: str, tf: Typeface, size: int = 40, base: int = 0):
    rich = parse(text)
    para = Para.build(tf, rich, bool(paragraph_rtl(rich.text)), base)
    return shape_line(para, 0, len(rich.text), size)


# ── markup ────────────────────────────────────────────────────────────────────────


def test_markup_turns_marks_into_flags_and_drops_them():
    rich = parse("Eat **more** [[greens]], *every* day")
    assert rich.text == "Eat more greens, every day"
    flag = dict(zip(rich.text.split(), (rich.flags[rich.text.index(w)] for w in rich.text.split())))
    assert flag["Eat"] == 0 and flag["more"] == BOLD and flag["greens,"] == ACCENT and flag["every"] == ITALIC


@pytest.mark.parametrize(
    "text", ["5*3*2", "a * b", "snake_*case*", "unclosed **bold", "[[no end", "2 ** 8 = 256", "x*"]
)
def test_markup_leaves_plain_text_with_stars_alone(text):
    rich = parse(text)
    assert rich.text == text and set(rich.flags) <= {0}


def test_markup_nests_escapes_and_handles_bold_italic():
    assert parse("***both*** x").flags[:4] == bytes([BOLD | ITALIC]) * 4
    nested = parse("**bold [[and accent]]**")
    assert nested.text == "bold and accent" and nested.flags[-1] == BOLD | ACCENT
    assert parse(r"\*not italic\*").text == "*not italic*"


def test_upper_keeps_flags_in_step_when_a_character_becomes_two():
    rich = parse("ß **straße**").upper()
    assert rich.text == "SS STRASSE"
    assert rich.flags == bytes([0, 0, 0] + [BOLD] * 7)


def test_squeeze_collapses_whitespace_like_str_split():
    rich = Rich.plain("  a   b\t c  ").squeeze()
    assert rich.text == "a b c" and len(rich.flags) == 5


# ── bidi ──────────────────────────────────────────────────────────────────────────


def test_paragraph_direction_is_that_of_its_first_strong_character():
    assert paragraph_rtl("123 שלום abc") is True
    assert paragraph_rtl("— hello مرحبا") is False
    assert paragraph_rtl("123 …") is None


def test_bidi_levels_and_visual_order_follow_uax9():
    text = "שלום עולם 2024 hello!"
    levels = bidi_levels(text, True)
    shown = "".join(text[i] for i in visual_order(levels))
    assert shown == "!hello 2024 םלוע םולש"
    assert bidi_levels("abc", False) == bytes(3)
    # Digits after Arabic letters are Arabic numbers: left to right inside the right-to-left run.
    arabic = "مرحبا 123"
    assert list(bidi_levels(arabic, True)[-3:]) == [2, 2, 2]


def test_language_comes_from_kana_or_hangul_else_the_default():
    assert detect_language("こんにちは世界") == "ja"
    assert detect_language("한국어") == "ko"
    assert detect_language("世界", "zh") == "zh"
    assert detect_language("hello") is None


def test_raqm_is_usable_here():
    status = raqm_status()
    assert status.usable, status.reason
    assert status.describe().startswith("ok: raqm")


# ── font files ────────────────────────────────────────────────────────────────────


def test_font_facts_read_coverage_colour_and_strikes():
    inter = font_facts(INTER)
    assert inter.family == "Inter" and inter.covers(ord("A")) and not inter.covers(0x05D0)
    assert not inter.colour and inter.scalable
    emoji = font_facts(EMOJI)
    assert emoji.colour and emoji.strikes == (109,) and emoji.covers(0x1F957)
    assert font_facts(JAPANESE).covers(ord("世"))
    assert strike_for((109,), 40) == 109 and strike_for((20, 40, 109), 30) == 40 and strike_for((20,), 60) == 20


def test_font_facts_refuse_what_is_not_a_font(tmp_path):
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"not a font at all")
    with pytest.raises(FontFileError):
        font_facts(bogus)


# ── fallback ──────────────────────────────────────────────────────────────────────


def test_clusters_keep_marks_modifiers_and_zwj_sequences_together():
    assert clusters("e\u0301x") == [(0, 2), (2, 3)]
    assert clusters("\U0001f44d\U0001f3fd!") == [(0, 2), (2, 3)]
    assert clusters("\u2764\ufe0f") == [(0, 2)]
    assert clusters("\U0001f468\u200d\U0001f469") == [(0, 3)]
    assert clusters("\U0001f1eb\U0001f1f7") == [(0, 2)]  # a flag
    assert is_emoji_cluster((0x2764, 0xFE0F)) and not is_emoji_cluster((0x2764,))


def test_each_character_goes_to_the_first_font_in_the_chain_that_has_it():
    line = runs_of("Salad 🥗 サラダ مرحبا", typeface(*ALL))
    fonts = {run.text.strip(): Path(run.font).name for run in line.runs if run.text.strip()}
    assert fonts["Salad"] == INTER.name
    assert fonts["🥗"] == EMOJI.name
    assert fonts["サラダ"] == JAPANESE.name
    assert fonts["مرحبا"] == ARABIC.name
    assert not line.missing


def test_spaces_and_punctuation_stay_in_the_run_around_them():
    line = runs_of("مرحبا بالعالم، 123", typeface(ARABIC))
    assert len(line.runs) == 2  # the Arabic words with their space and comma; the number
    assert {Path(r.font).name for r in line.runs} == {ARABIC.name}


def test_a_character_no_font_has_is_reported_missing():
    line = runs_of("a \U0001fae8 b", typeface(EMOJI))
    assert line.missing == ("\U0001fae8",)


def test_a_colour_emoji_is_measured_at_its_strike_scaled_to_the_line():
    (run,) = runs_of("🥗", typeface(EMOJI), size=40).runs
    assert run.size == 109 and run.scale == pytest.approx(40 / 109)
    assert 35 <= run.ink[3] - run.ink[1] <= 60  # about one em tall, not 109 px


def test_italic_without_an_italic_font_is_slanted_and_wider():
    upright = runs_of("Mostly", typeface())
    slanted = runs_of("*Mostly*", typeface())
    (run,) = slanted.runs
    assert run.oblique and run.advance == upright.runs[0].advance
    assert slanted.ink[2] > upright.ink[2]  # the top leans right


def test_a_themes_italic_font_is_used_instead_of_slanting(tmp_path):
    tf = Typeface(str(INTER), str(INTER_BOLD), italic=str(HEBREW), system=False)
    (run,) = runs_of("*שלום*", tf).runs
    assert Path(run.font) == HEBREW and not run.oblique


def test_fallback_faces_keep_the_blocks_line_metrics_at_least():
    latin = runs_of("Hello", typeface())
    arabic = runs_of("مرحبا", typeface(ARABIC))
    assert arabic.ascent >= latin.ascent and arabic.descent > latin.descent


# ── fontconfig ────────────────────────────────────────────────────────────────────


@pytest.fixture()
def only_test_fonts(tmp_path, monkeypatch):
    """fontconfig sees tests/data/fonts and nothing else."""
    if shutil.which("fc-match") is None:
        pytest.skip("fontconfig (fc-match) is not installed")
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{FONTS}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    clear_caches()
    yield
    monkeypatch.delenv("FONTCONFIG_FILE")
    clear_caches()


def test_system_fonts_come_from_fontconfig_and_fill_the_chain(only_test_fonts):
    found = {Path(f.path).name: f for f in system_fonts(False)}
    assert set(found) == {p.name for p in ALL}
    assert found[EMOJI.name].colour is True and found[ARABIC.name].covers(0x0628)
    line = runs_of("Hi サラダ 😀", typeface(system=True))
    assert [Path(r.font).name for r in line.runs if r.text.strip()] == [INTER.name, JAPANESE.name, EMOJI.name]
    facts = diagnose_text()
    assert facts["cjk"].startswith("Noto Sans CJK JP") and "(colour)" in facts["emoji"]
    assert facts["hangul"].startswith("no font")


def test_without_system_fonts_the_chain_stops_at_the_bundled_font(only_test_fonts):
    assert runs_of("サラダ", typeface(system=False)).missing == tuple("サラダ")


# ── theme options ─────────────────────────────────────────────────────────────────


def deck(theme: dict | None = None, **slide):
    slide = slide or {"kind": "title", "title": "x"}
    return load_deck({"theme": theme or {}, "slides": [slide]})


def test_theme_text_options_reach_the_font_set():
    d = deck(
        {
            "text_align": "right",
            "line_height": 1.3,
            "text_case": "upper-titles",
            "legibility": "scrim",
            "markup": False,
            "language": "ja",
            "accent": "#00ff00",
            "fallback_fonts": [str(JAPANESE)],
            "font_italic": str(HEBREW),
            "system_fonts": False,
        }
    )
    fonts = resolve_fonts(d.theme)
    assert fonts.options == TextOptions("right", 1.3, "upper-titles", "scrim", False, "#00ff00", "ja")
    assert fonts.fallbacks == (JAPANESE,) and fonts.italic == HEBREW and fonts.system is False
    assert fonts.typeface.language == "ja"


def test_defaults_change_nothing():
    d = deck()
    fonts = resolve_fonts(d.theme)
    options = TextOptions(accent=d.theme.accent)
    assert fonts == FontSet(font_path("Inter-Regular.otf"), font_path("Inter-Bold.otf"), options=options)


@pytest.mark.parametrize(
    "theme,where",
    [
        ({"legibility": "glow"}, "theme.legibility"),
        ({"text_align": "justify"}, "theme.text_align"),
        ({"text_case": "lower"}, "theme.text_case"),
        ({"line_height": 9}, "theme.line_height"),
        ({"language": "not a tag"}, "theme.language"),
    ],
)
def test_bad_text_options_are_spec_errors_with_their_path(theme, where):
    with pytest.raises(SpecError, match=rf"^{where}"):
        deck(theme)


def test_a_slide_may_set_its_own_alignment():
    assert deck(kind="title", title="x", align="left").slides[0].align == "left"
    with pytest.raises(SpecError, match=r"slides\[0\]\.align"):
        deck(kind="title", title="x", align="middle")


def test_a_missing_fallback_font_is_an_asset_error_when_the_deck_loads(tmp_path):
    with pytest.raises(AssetError, match=r"theme\.fallback_fonts\[0\]: font not found: .*nope\.ttf"):
        deck({"fallback_fonts": [str(tmp_path / "nope.ttf")]})


def test_fit_text_still_takes_a_lone_font_file():
    fitted = fit_text("Hello world", INTER, 400, 200, 60, 10)
    assert fitted.lines == ("Hello world",) and fitted.size == 60


# ── line breaks ───────────────────────────────────────────────────────────────────


def plain_para(text: str, *fallbacks: Path) -> Para:
    return Para.build(typeface(*fallbacks), Rich.plain(text), bool(paragraph_rtl(text)))


def line_texts(lines) -> list[str]:
    return [para.text[a:b] for para, a, b in lines]


def width_at(text: str, size: int, *fallbacks: Path) -> int:
    return shape_line(plain_para(text, *fallbacks), 0, len(text), size).width


def test_a_lone_separator_is_glued_to_the_word_before_it():
    text = "Lunch — Tuna wrap · 540 kcal / day"
    assert [text[a:b] for a, b in words(text)] == ["Lunch —", "Tuna", "wrap ·", "540", "kcal /", "day"]


def test_refine_pulls_a_word_down_so_no_short_word_is_alone_on_the_last_line():
    text = "Breakfast — Spinach & feta omelette, rye toast · 450 kcal"
    width = max(width_at("Breakfast — Spinach & feta", 54), width_at("omelette, rye toast · 450", 54)) + 2
    first_fit = wrap([plain_para(text)], 54, width, break_words=False)
    assert line_texts(first_fit)[-1] == "kcal"  # what first fit alone leaves
    refined = refine(first_fit, 54, width)
    assert line_texts(refined) == ["Breakfast — Spinach & feta", "omelette, rye toast ·", "450 kcal"]
    assert all(width_at(line, 54) <= width for line in line_texts(refined))


def test_refine_breaks_after_punctuation_when_it_costs_little():
    text = "It was the best of times, it was the worst of times, it was the age of wisdom"
    first_fit = line_texts(wrap([plain_para(text)], 36, 500, break_words=False))
    assert first_fit[0].endswith(", it")  # first fit runs one short word past the comma
    refined = line_texts(refine(wrap([plain_para(text)], 36, 500, break_words=False), 36, 500))
    assert refined == ["It was the best of times,", "it was the worst of times,", "it was the age of wisdom"]


@pytest.mark.parametrize("size", [24, 36, 48])
def test_refine_keeps_first_fit_where_no_rule_asks_otherwise(size):
    text = "Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore"
    for width in range(300, 1000, 50):
        first_fit = wrap([plain_para(text)], size, width, break_words=False)
        if len(first_fit) > 1 and not is_orphan(line_texts(first_fit)[-1]):
            assert refine(first_fit, size, width) == first_fit, width


@pytest.mark.parametrize(
    "text", ["Shop once cook twice and then eat well all week", "קונים פעם אחת מבשלים פעמיים ואוכלים טוב כל השבוע"]
)
def test_balance_evens_the_lines_out_left_to_right_and_right_to_left(text):
    para = plain_para(text, HEBREW)
    first_fit = wrap([para], 60, 700, break_words=False)
    balanced = refine(first_fit, 60, 700, balance=True)
    assert len(balanced) == len(first_fit) == 3
    assert is_orphan(line_texts(first_fit)[-1])  # "week" / "השבוע" alone
    widths = [width_at(line, 60, HEBREW) for line in line_texts(balanced)]
    assert max(widths) < 700 and min(widths) > 0.6 * max(widths), line_texts(balanced)
    assert all(len(words(line)) >= 2 for line in line_texts(balanced))
