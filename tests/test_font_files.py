"""Font files that are not fonts: one line naming the file and what is wrong, exit 2.

A theme font (or fallback font) that is text, empty, cut short, random bytes, a web
font or /etc/passwd used to end as ``reel: internal error`` (`FontFileError` was no
`AssetError`), and its message quoted the file's first bytes. Each is generated here,
checked by `check_font_file` (the one check `resolve_fonts` makes of every theme font)
and run through `reel still`. No message may quote the file: each fake font starts
with a marker that must never be printed.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest

from engine import cli
from engine.errors import AssetError
from engine.resources import font_path
from engine.spec import Theme
from engine.text.sfnt import FontFileError, font_facts
from engine.text.typeface import check_font_file, resolve_fonts

MARKER = b"SECRETMARKER"
INTER = font_path("Inter-Regular.otf")


def _make(kind: str, folder: Path) -> Path:
    inter = INTER.read_bytes()
    contents = {
        "text": MARKER + b" this is a private note, not a font\n" * 20,
        "empty": b"",
        "tiny": MARKER[:6],
        "truncated-1000": inter[:1000],
        "truncated-half": inter[: len(inter) // 2],
        "random-bytes": MARKER + random.Random(7).randbytes(5_000),
        "ttf-magic-then-garbage": b"\x00\x01\x00\x00" + MARKER + b"\xff" * 3_000,
        "woff2": b"wOF2" + MARKER + b"\x00" * 3_000,
        "png": b"\x89PNG\r\n\x1a\n" + MARKER + b"\x00" * 100,
    }
    path = folder / f"{kind}.ttf"
    if kind == "folder":
        path.mkdir()
    elif kind == "passwd":
        path = Path("/etc/passwd")
    else:
        path.write_bytes(contents[kind])
    return path


KINDS = [
    "text",
    "empty",
    "tiny",
    "truncated-1000",
    "truncated-half",
    "random-bytes",
    "ttf-magic-then-garbage",
    "woff2",
    "png",
    "folder",
] + (["passwd"] if Path("/etc/passwd").is_file() else [])


def _quotes_the_file(message: str, path: Path) -> bool:
    if MARKER.decode() in message or MARKER.decode()[:4] in message or "\\x" in message:
        return True
    if path == Path("/etc/passwd"):
        return "root:" in message
    return False


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_that_is_not_a_font_is_an_asset_error_of_one_line_that_quotes_nothing(kind, tmp_path):
    path = _make(kind, tmp_path)
    with pytest.raises(FontFileError) as info:
        check_font_file(path, "theme.font")
    error = info.value
    assert isinstance(error, AssetError) and isinstance(error, ValueError)
    message = str(error)
    assert message.startswith(f"theme.font: font file {path} ") and "\n" not in message and len(message) < 300
    assert error.file == str(path)
    assert not _quotes_the_file(message, path), message


def test_what_is_wrong_is_said_in_words(tmp_path):
    def problem(kind: str) -> str:
        with pytest.raises(FontFileError) as info:
            check_font_file(_make(kind, tmp_path))
        return info.value.problem

    assert problem("empty") == "is empty"
    assert problem("folder") == "is a folder, not a file"
    assert "not an OpenType or TrueType font" in problem("text")
    assert "WOFF2 web font" in problem("woff2")
    assert "cut short" in problem("truncated-1000")
    assert "cannot be read by FreeType" in problem("truncated-half")


def test_a_fifo_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "font.ttf"
    os.mkfifo(fifo)  # opening it would block: no writer
    with pytest.raises(FontFileError, match="is not a regular file"):
        font_facts(str(fifo))


def test_a_real_font_passes_and_its_facts_are_read(tmp_path):
    copy = tmp_path / "Mine.otf"
    copy.write_bytes(INTER.read_bytes())
    check_font_file(copy)
    fonts = resolve_fonts(Theme(font=str(copy), fallback_fonts=[str(font_path("Inter-Bold.otf"))]))
    assert fonts.regular == fonts.bold == copy
    assert font_facts(str(copy)).covers(ord("a"))


@pytest.mark.parametrize("key", ["font", "font_bold", "font_italic", "fallback_fonts"])
def test_resolve_fonts_checks_every_theme_font_and_names_its_key(key, tmp_path):
    path = _make("truncated-1000", tmp_path)
    theme = Theme.model_validate({key: [str(path)] if key == "fallback_fonts" else str(path)})
    where = "theme.fallback_fonts[0]" if key == "fallback_fonts" else f"theme.{key}"
    with pytest.raises(FontFileError, match="^" + re.escape(f"{where}: font file {path} ")):
        resolve_fonts(theme)


def _deck(tmp_path: Path, key: str, path: Path) -> Path:
    theme = {key: [str(path)] if key == "fallback_fonts" else str(path)}
    deck = {"theme": theme, "slides": [{"kind": "title", "title": "Hello **bold** *italic*", "duration": 1}]}
    file = tmp_path / "deck.json"
    file.write_text(json.dumps(deck))
    return file


@pytest.mark.parametrize(
    "kind,key",
    [
        ("text", "font"),
        ("empty", "font"),
        ("truncated-1000", "font"),
        ("truncated-half", "font"),
        ("random-bytes", "font_bold"),
        ("ttf-magic-then-garbage", "font_italic"),
        ("woff2", "font"),
        ("truncated-half", "fallback_fonts"),
        ("random-bytes", "fallback_fonts"),
    ]
    + ([("passwd", "font")] if "passwd" in KINDS else []),
)
def test_reel_still_with_a_broken_font_exits_2_with_one_line(kind, key, tmp_path, capsys):
    path = _make(kind, tmp_path)
    out = tmp_path / "frame.png"
    code = cli.main(["still", str(_deck(tmp_path, key, path)), "--at", "0", "-p", "320x180", "-o", str(out)])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("reel: error: ") and str(path) in lines[0], err
    assert "internal error" not in err and not _quotes_the_file(err, path), err
    assert not out.exists()


def test_reel_still_with_a_copy_of_a_real_font_renders(tmp_path, capsys):
    copy = tmp_path / "Mine.otf"
    copy.write_bytes(INTER.read_bytes())
    out = tmp_path / "frame.png"
    code = cli.main(["still", str(_deck(tmp_path, "font", copy)), "--at", "0", "-p", "320x180", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert out.is_file()
