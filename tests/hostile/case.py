"""The corpus's vocabulary: a case, the tiny valid deck each case spoils in one way,
and the files cases are made of.

Every file a case needs is generated in the case's own folder when it runs (a
decompression bomb is a few hundred bytes written by hand; a 10-hour voiceover is a
sparse file), so nothing large is committed and nothing outlives the case.

A case is hostile in exactly one way on an otherwise valid deck: two slides of one
second each, cut together, rendered for a 320×180 platform at draft quality (half
size: 160×90 at 15 fps, so 30 frames).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import struct
import wave
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

REPO = Path(__file__).resolve().parents[2]
INTER = REPO / "fonts" / "Inter-Regular.otf"
SHUTTER_BLINDS = REPO / "tests" / "data" / "transitions" / "ShutterBlinds.glsl"

PLATFORM = "320x180"
FRAME = (160, 90)  # draft quality halves the platform's size
FPS = 15
FRAMES = 30  # two 1 s slides, cut
VIDEO = "out/deck-160x90@15-draft.mp4"

BASE_DECK: dict[str, Any] = {
    "defaults": {"transition": "cut"},
    "slides": [
        {"kind": "title", "title": "Hello", "duration": 1},
        {"kind": "text", "text": "World", "duration": 1},
    ],
}

# A marker written into files that must never be quoted back (issue 11, point 5).
SECRET = "SECRET-7f3a"


def render_args(deck: str = "deck.json", *extra: str, out: str = "out") -> list[str]:
    """`reel render` of `deck` for the corpus's platform and quality into `out`."""
    return ["render", deck, "-p", PLATFORM, "--quality", "draft", "-o", out, "-q", *extra]


def deck_with(*changes: tuple[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of the base deck with each ``("slides.1.duration", value)`` set.

    A value of `DELETE` removes the key instead.
    """
    deck = copy.deepcopy(BASE_DECK if base is None else base)
    for path, value in changes:
        *parents, last = path.split(".")
        node: Any = deck
        for part in parents:
            key: Any = int(part) if isinstance(node, list) else part
            if isinstance(node, dict) and key not in node:
                node[key] = {}
            node = node[key]
        key = int(last) if isinstance(node, list) else last
        if value is DELETE:
            del node[key]
        else:
            node[key] = value
    return deck


DELETE = object()


@dataclass(frozen=True)
class Video:
    """An MP4 a valid case must leave, decoded to count its frames."""

    path: str = VIDEO
    frames: int = FRAMES
    size: tuple[int, int] = FRAME


@dataclass(frozen=True)
class Picture:
    """A PNG a valid case must leave (a still, a thumbnail)."""

    path: str
    size: tuple[int, int] = FRAME


Expect = Literal["error", "ok", "either"]


@dataclass(frozen=True)
class Case:
    """One hostile input and what `reel` must do with it.

    `setup` writes the case's files into its folder and returns the `reel` arguments.
    `expect` is "error" (exit 2, one line), "ok" (exit 0 and exactly `outputs`), or
    "either" where the issue allows both (a 100 KB bullet "must fail or fit").
    """

    group: str
    name: str
    setup: Callable[[Folder], Sequence[str]]
    expect: Expect = "error"
    outputs: tuple[Video | Picture | str, ...] = ()
    forbid: tuple[str, ...] = ()  # text that must not appear in the output
    timeout: float = 10.0
    gl: bool = False  # succeeds only where an OpenGL context can be made (user GLSL)
    fresh: bool = False  # run in a new interpreter, not forked from the zygote (run.py)

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"


def error(group: str, name: str, setup: Callable[[Folder], Sequence[str]], **kw: Any) -> Case:
    return Case(group, name, setup, "error", **kw)


def ok(group: str, name: str, setup: Callable[[Folder], Sequence[str]], outputs=(Video(),), **kw: Any) -> Case:
    return Case(group, name, setup, "ok", tuple(outputs), **kw)


def either(group: str, name: str, setup: Callable[[Folder], Sequence[str]], outputs=(Video(),), **kw: Any) -> Case:
    return Case(group, name, setup, "either", tuple(outputs), **kw)


def deck_case(
    group: str,
    name: str,
    *changes: tuple[str, Any],
    expect: Expect = "error",
    files: Callable[[Folder], object] | None = None,
    **kw: Any,
) -> Case:
    """The base deck with `changes`, as JSON, rendered with the corpus's arguments;
    `files` makes the files it names."""
    deck = deck_with(*changes)

    def setup(f: Folder) -> list[str]:
        if files is not None:
            files(f)
        return render_args(f.deck(deck))

    if expect == "error":
        return error(group, name, setup, **kw)
    return (ok if expect == "ok" else either)(group, name, setup, **kw)


def yaml_case(group: str, name: str, text: str, expect: Expect = "error", **kw: Any) -> Case:
    """A YAML deck written verbatim."""

    def setup(f: Folder) -> list[str]:
        return render_args(f.write("deck.yaml", text))

    if expect == "error":
        return error(group, name, setup, **kw)
    return (ok if expect == "ok" else either)(group, name, setup, **kw)


# ---------------------------------------------------------------------------------
# Files


@dataclass
class Folder:
    """A case's working folder (its cwd); every helper returns the name it wrote."""

    work: Path
    made: list[str] = field(default_factory=list)

    def path(self, name: str) -> Path:
        return self.work / name

    def write(self, name: str, data: bytes | str) -> str:
        target = self.path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return name

    def deck(self, deck: Any, name: str = "deck.json") -> str:
        return self.write(name, json.dumps(deck))

    def dir(self, name: str) -> str:
        self.path(name).mkdir(parents=True, exist_ok=True)
        return name

    def fifo(self, name: str) -> str:
        os.mkfifo(self.path(name))
        return name

    def symlink(self, name: str, target: str) -> str:
        os.symlink(target, self.path(name))
        return name

    def copy(self, name: str, source: Path) -> str:
        shutil.copyfile(source, self.path(name))
        return name

    def png(self, name: str = "pic.png", size: tuple[int, int] = (64, 48), mode: str = "RGB") -> str:
        from PIL import Image

        colour = {"RGB": (200, 60, 40), "RGBA": (200, 60, 40, 128), "L": 128, "I;16": 30000, "1": 1, "P": 3}[mode]
        with Image.new(mode, size, colour) as image:
            image.save(self.path(name), format="PNG")
        return name

    def image(self, name: str, fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> str:
        from PIL import Image

        with Image.new(mode, size, (40, 120, 200) if mode == "RGB" else 100) as image:
            image.save(self.path(name), format=fmt)
        return name

    def png_declaring(self, name: str, width: int, height: int, rows: int = 1) -> str:
        """A PNG whose header declares width×height grey pixels but carries `rows` rows:
        a decompression bomb in a few hundred bytes."""
        self.write(name, png_bytes(width, height, rows))
        return name

    def wav(
        self, name: str = "sound.wav", seconds: float = 1.0, rate: int = 48000, channels: int = 1, width: int = 2
    ) -> str:
        silence = (b"\x80" if width == 1 else b"\x00" * width) * channels
        with wave.open(str(self.path(name)), "wb") as out:
            out.setnchannels(channels)
            out.setsampwidth(width)
            out.setframerate(rate)
            out.writeframes(silence * int(rate * seconds))
        return name

    def sparse_wav(self, name: str, seconds: float, rate: int = 8000) -> str:
        """A mono 8-bit WAV of `seconds` whose data is a hole in the file: hours of audio
        for no disk."""
        size = int(rate * seconds)
        header = b"RIFF" + struct.pack("<I", 36 + size) + b"WAVE"
        header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
        header += b"data" + struct.pack("<I", size)
        with open(self.path(name), "wb") as out:
            out.write(header)
            out.truncate(len(header) + size)
        return name

    def glsl(self, name: str = "wipe.glsl", source: str | None = None) -> str:
        return self.write(name, SHUTTER_BLINDS.read_text() if source is None else source)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, rows: int, colour_type: int = 0) -> bytes:
    """A PNG of `width`×`height` (8-bit grey by default) holding the first `rows` rows of zeros."""
    channels = {0: 1, 2: 3, 6: 4}[colour_type]
    compressor = zlib.compressobj(1)
    row = b"\x00" * (1 + width * channels) if rows else b""  # no 2 GB row for a header-only bomb
    data = b"".join(compressor.compress(row) for _ in range(rows)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """A YAML flow value that defines and uses its own anchors: `width`**(`levels`+1)
    strings from a few hundred bytes."""
    text = "&a0 [" + ", ".join(["lol"] * width) + "]"
    for level in range(1, levels + 1):
        text = f"&a{level} [{text}" + f", *a{level - 1}" * (width - 1) + "]"
    return text
