from PIL import Image

from engine import cli
from engine.gallery import gallery_deck
from engine.transitions import BUILTIN

from .helpers import probe


def test_gallery_deck_brings_in_each_built_in_once_under_its_own_name():
    deck = gallery_deck()
    assert [s.title for s in deck.slides[1:]] == list(BUILTIN)
    # A cut is no transition at all in the timeline.
    assert [t.transition for t in deck.timings()[1:]] == [None if n == "cut" else n for n in BUILTIN]


def test_reel_gallery_writes_the_video_and_the_contact_sheet(tmp_path, capsys):
    video, sheet = tmp_path / "gallery.mp4", tmp_path / "sheet.png"
    code = cli.main(["gallery", "-o", str(video), "--sheet", str(sheet), "-p", "320x180@10", "--compositor", "cpu"])
    assert code == 0
    deck = gallery_deck()
    assert probe(video).frames == round(deck.total_duration() * 10)
    with Image.open(sheet) as image:
        rows = -(-len(BUILTIN) // 4)
        assert image.width == 4 * 240 and image.height == rows * (135 + 20)
    assert "contact sheet" in capsys.readouterr().out


def test_reel_gallery_needs_an_output(capsys):
    assert cli.main(["gallery"]) == 2
    assert "-o gallery.mp4" in capsys.readouterr().err
