"""A bullets slide's words come first: the heading gives way before a bullet is cut.

Eight long bullets under a long title, on every frame shape: the bullets keep every
word and the heading is what shrinks. Where even the smallest heading leaves too
little room, the bullets are cut, but they share all the room there is, and every
cut is a warning naming the slide and the bullet, printed by `reel still` too.
"""

from __future__ import annotations

import json
from itertools import pairwise

import pytest

from engine import cli
from engine.layout import layout_slide
from engine.platforms import resolve_output
from engine.spec import Theme
from engine.text.block import TextBlock
from engine.text.fit import ELLIPSIS
from engine.text.typeface import resolve_fonts

from .helpers import slide

TITLE = "Eight kitchen habits that make every busy weeknight easier"  # 58 characters
BULLETS = [  # 82 to 89 characters each
    "Plan the whole week on Sunday evening, so the shopping takes one trip instead of three",
    "Cook a big pot of grains on Monday and reuse it for packed lunches right through Thursday",
    "Keep a short list of ten reliable recipes that the whole family already enjoys eating",
    "Wash and chop the vegetables as soon as you get home, then store them in clear boxes",
    "Double every sauce you make and freeze half of it for a really busy night later on",
    "Use one sheet pan for roasting protein and vegetables together, with far less washing up",
    "Set a timer for fifteen minutes of tidying while the oven does the real work for you",
    "Save the leftovers in single portions, each labelled with the date and what is inside",
]
HABIT = "Plan the whole week on Sunday evening, so the shopping takes one trip instead of three. "
TOO_LONG = [(f"Habit {i}: " + HABIT * 6)[:400] for i in range(8)]  # no size makes these fit
SHAPES = ["instagram_feed", "youtube", "tiktok", "instagram_portrait"]


@pytest.fixture(scope="module")
def fonts():
    return resolve_fonts(Theme())


def lay(s, fonts, platform: str):
    output = resolve_output(platform)
    return layout_slide(s, fonts, output.width, output.height, output.safe_area.box(output.width, output.height))


def bullet_blocks(layout) -> list[TextBlock]:
    return [b for b in layout.blocks if b.role == "bullet"]


@pytest.mark.parametrize("platform", SHAPES)
def test_long_bullets_keep_every_word_and_the_heading_gives_way(platform, fonts):
    layout = lay(slide("bullets", title=TITLE, bullets=BULLETS), fonts, platform)
    preferred = lay(slide("bullets", title=TITLE, bullets=["Short"]), fonts, platform).block("title")
    heading, blocks = layout.block("title"), bullet_blocks(layout)

    assert layout.warnings == ()
    assert len(blocks) == len(BULLETS) and len({b.size for b in blocks}) == 1
    for block, text in zip(blocks, BULLETS):
        assert not block.truncated
        assert [w for line in block.lines for w in line.text.split()] == text.split(), "every word, in order"
        assert not any(ELLIPSIS in line.text for line in block.lines)
    # The heading never grows; where the bullets needed room, it shrank and lost lines.
    assert heading.size <= preferred.size
    if platform == "instagram_feed":
        assert heading.size < preferred.size and len(heading.lines) < len(preferred.lines) == 3
    assert " ".join(line.text for line in heading.lines).split() == TITLE.split()
    # Stacked in order, all inside the content box.
    left, top, right, bottom = layout.content_box
    assert top <= heading.box[1] and heading.box[3] < blocks[0].box[1]
    assert all(a.box[3] <= b.box[1] for a, b in pairwise(blocks))
    assert blocks[-1].box[3] <= bottom and all(left <= b.box[0] and b.box[2] <= right for b in blocks)


def test_an_unavoidable_cut_shrinks_the_heading_fills_the_room_and_warns_for_each_bullet(fonts):
    layout = lay(slide("bullets", title=TITLE, bullets=TOO_LONG), fonts, "instagram_feed")
    heading, blocks = layout.block("title"), bullet_blocks(layout)
    roomy = lay(slide("bullets", title=TITLE, bullets=BULLETS), fonts, "instagram_feed").block("title")

    assert heading.size < roomy.size and not heading.truncated  # the heading gave way first
    assert all(b.truncated and b.lines[-1].text.endswith(ELLIPSIS) for b in blocks)
    assert all(len(b.lines) >= 2 for b in blocks), "lines are shared out, not one each"
    # The room below is used: what is left is less than one more line of a bullet.
    _, top, _, bottom = layout.content_box
    spare = (bottom - top) - (blocks[-1].box[3] - heading.box[1])
    assert 0 <= spare < 1.5 * blocks[0].size
    assert len(layout.warnings) == len(TOO_LONG)
    for i, warning in enumerate(layout.warnings):
        assert warning.startswith(f'bullets slide "Eight kitchen habits that mak{ELLIPSIS}": bullet "Habit {i}: Plan')
        assert "cut to" in warning


def test_reel_still_prints_each_cut_on_stderr_naming_the_slide(tmp_path, capsys):
    deck = tmp_path / "deck.json"
    deck.write_text(json.dumps({"slides": [{"kind": "bullets", "title": TITLE, "bullets": TOO_LONG}]}))
    out = tmp_path / "still.png"
    argv = ["still", str(deck), "-p", "instagram_feed", "--quality", "draft", "--compositor", "cpu", "-o", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr()
    assert out.is_file() and str(out) in printed.out
    lines = [line for line in printed.err.splitlines() if line.startswith("reel: warning: slides[0]: bullets slide")]
    assert len(lines) == len(TOO_LONG), printed.err
    assert all('bullet "Habit' in line and "cut to" in line for line in lines)
