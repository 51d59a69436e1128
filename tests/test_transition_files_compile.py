"""`reel render` and `reel still` compile every transition file of the deck up front, and say so alike."""

import json
from pathlib import Path

import pytest

from engine import cli

DATA = Path(__file__).parent / "data" / "transitions"

pytestmark = pytest.mark.gl


@pytest.fixture
def broken_deck(tmp_path, gl_compositor):
    gl_compositor(16, 16)  # skips, saying why, where no EGL context can be made
    deck = {
        "slides": [
            {"kind": "title", "title": "A", "duration": 2},
            {"kind": "title", "title": "B", "duration": 2},
            {
                "kind": "title",
                "title": "C",
                "duration": 2,
                "transition": {"file": str(DATA / "Broken.glsl"), "duration": 1},
            },
        ]
    }
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    return tmp_path / "deck.json"


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    return err


def test_still_outside_the_transition_fails_like_render(broken_deck, tmp_path, capsys):
    assert cli.main(["render", str(broken_deck), "-p", "320x180@10", "-o", str(tmp_path / "v.mp4")]) == 2
    rendered = error_line(capsys)
    # 0.5 s is on slide A, far from the broken transition into C.
    assert cli.main(["still", str(broken_deck), "--at", "0.5", "-p", "320x180@10", "-o", str(tmp_path / "f.png")]) == 2
    still = error_line(capsys)
    assert rendered == still
    assert still.startswith("reel: error: slides[2].transition.file: Broken.glsl:8: does not compile")
    assert not (tmp_path / "f.png").exists() and not (tmp_path / "v.mp4").exists()


def test_a_render_fails_before_encoding_any_frame(broken_deck, tmp_path, monkeypatch, capsys):
    encoded = []
    monkeypatch.setattr("engine.encode.pyav.PyAVEncoder.encode_repeated", lambda self, *a: encoded.append(a))
    assert cli.main(["render", str(broken_deck), "-p", "320x180@10", "-o", str(tmp_path / "v.mp4")]) == 2
    assert encoded == []
    assert "slides[2].transition.file" in error_line(capsys)
