"""The command line's finish: every deck error at once, `reel validate`, names and paths,
progress without a terminal, the report's provenance, colours, numbers, completion."""

from __future__ import annotations

import json

from engine import cli

from .test_cli import write_deck


def bad_deck(folder):
    """A deck with three mistakes on three slides."""
    path = folder / "bad.json"
    slides = [
        {"kind": "title", "title": "", "duration": 1},
        {"kind": "title", "title": "Two", "duration": -1},
        {"kind": "bullets", "title": "Three", "bullets": ["a"], "duration": 1, "titel": "x"},
    ]
    path.write_text(json.dumps({"slides": slides}))
    return path


# ---------------------------------------------------------------------------------
# 1. Errors


def test_every_deck_error_is_printed_on_its_own_line_with_its_path(tmp_path, capsys):
    code = cli.main(["render", str(bad_deck(tmp_path)), "-o", str(tmp_path / "out"), "-q"])
    lines = capsys.readouterr().err.splitlines()
    assert code == 2
    assert lines == [
        "reel: error: slides[0].title: must not be empty",
        "reel: error: slides[1].duration: must be > 0, got -1",
        "reel: error: slides[2].titel: unknown key; did you mean 'title'?",
    ]
    assert not (tmp_path / "out").exists()


def test_validate_says_ok_with_slides_and_seconds_and_exits_0(tmp_path, capsys):
    code = cli.main(["validate", str(write_deck(tmp_path))])
    out = capsys.readouterr()
    assert code == 0
    assert out.out == "ok: 2 slide(s), 2.5 s\n" and out.err == ""


def test_validate_lists_every_error_and_exits_2_writing_nothing(tmp_path, capsys):
    code = cli.main(["validate", str(bad_deck(tmp_path))])
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert len(out.err.splitlines()) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_a_single_error_is_still_one_line(tmp_path, capsys):
    deck = write_deck(tmp_path, slides=[{"kind": "title", "title": "x", "duration": 0}])
    assert cli.main(["validate", str(deck)]) == 2
    assert capsys.readouterr().err == "reel: error: slides[0].duration: must be > 0, got 0\n"
