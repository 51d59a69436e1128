"""Captions: SRT and WebVTT files read and written, word timings, the cues of a video.

    cues = read_caption_file(Path("talk.srt"))        # [Cue(start, end, text), ...]
    words = read_words(Path("words.json"))            # [Word(text, start, end), ...]
    cues = attach_words(cues, words)                  # karaoke: each cue's words timed
    write_srt(cues) / write_vtt(cues)                 # sidecar text

Times are seconds of video time. A `Cue` may carry the start of each of its words
(`Cue.words`: token index into `Cue.tokens`, start), which turns on the karaoke
highlight; word timings are a plain input, a list of (word, start, end), whether
they come from a JSON file or, later, from narration. Without a caption file, words
alone are grouped into cues (`cues_from_words`).

A malformed file is a SpecError of one line naming the file and the line number.
`mux_soft_track` adds a `mov_text` subtitle stream to an MP4 (PyAV, packets written
as they are: 16-bit length + UTF-8 text, the tx3g sample format).
"""

from __future__ import annotations

import json
import math
import re
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TypeGuard

from .errors import RenderError, SpecError
from .files import read_regular

__all__ = [
    "Cue",
    "Word",
    "attach_words",
    "cue_frames",
    "cues_from_words",
    "mux_soft_track",
    "parse_srt",
    "parse_vtt",
    "read_caption_file",
    "read_words",
    "write_sidecars",
    "write_srt",
    "write_vtt",
]

#: The most bytes a caption or word-timing file may hold (a two-hour talk is ~150 KB).
MAX_CAPTION_BYTES = 8 * 2**20


@dataclass(frozen=True)
class Word:
    """One spoken word and when it is said, in seconds."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Cue:
    """Text on screen for [start, end) seconds; `words`: (token index, start) for karaoke."""

    start: float
    end: float
    text: str
    words: tuple[tuple[int, float], ...] = ()

    @property
    def tokens(self) -> list[str]:
        """The cue's words as the karaoke highlight counts them (split at white space)."""
        return self.text.split()

    def word_at(self, seconds: float) -> int | None:
        """Token index of the word highlighted at `seconds`: the last one started; None before the first."""
        current = None
        for token, start in self.words:
            if start <= seconds + 1e-9:
                current = token
        return current


# -- reading ---------------------------------------------------------------------------

_SRT_TIME = re.compile(r"^\s*(\d+):([0-5]\d):([0-5]\d)[,.](\d{1,3})\s*-->\s*(\d+):([0-5]\d):([0-5]\d)[,.](\d{1,3})")
_VTT_STAMP = r"(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_VTT_TIME = re.compile(rf"^{_VTT_STAMP}[ \t]+-->[ \t]+{_VTT_STAMP}(?:[ \t]+.*)?$")
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": "\u00a0", "&lrm;": "\u200e", "&rlm;": "\u200f"}


def _fail(file: object, line: int, message: str) -> SpecError:
    return SpecError(f"{file}:{line}: {message}")


def _seconds(h: str | None, m: str, s: str, frac: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def _clean(lines: list[str], vtt: bool) -> str:
    text = "\n".join(_TAG.sub("", line) for line in lines)
    if vtt:
        for entity, char in _ENTITIES.items():
            text = text.replace(entity, char)
    return text.strip()


def _checked(file: object, line: int, start: float, end: float, text: str) -> Cue:
    if end <= start:
        raise _fail(file, line, f"the cue ends ({end:g} s) before it starts ({start:g} s)")
    if not text:
        raise _fail(file, line, "the cue has no text")
    return Cue(start, end, text)


def _lines(text: str) -> list[str]:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_srt(text: str, file: object = "captions.srt") -> list[Cue]:
    """The cues of SubRip text: blocks of an optional number, a timing line and text lines."""
    lines = _lines(text)
    cues: list[Cue] = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        if lines[i].strip().isdigit() and i + 1 < len(lines) and lines[i + 1].strip():  # the cue's number
            i += 1
        match = _SRT_TIME.match(lines[i])
        if match is None:
            what = "a timing line (00:00:01,000 --> 00:00:02,500)"
            raise _fail(file, i + 1, f"expected {what}, found {lines[i].strip()[:40]!r}")
        cue, i = _cue(file, lines, i, match, vtt=False)
        cues.append(cue)
    return cues


def _cue(file: object, lines: list[str], i: int, match: re.Match[str], vtt: bool) -> tuple[Cue, int]:
    """The cue whose timing line `lines[i]` is (`match`: its times) and the text lines
    after it up to a blank one; and the index of the line after the cue."""
    g = match.groups()
    timing_line = i + 1
    i += 1
    body: list[str] = []
    while i < len(lines) and lines[i].strip():
        body.append(lines[i])
        i += 1
    return _checked(file, timing_line, _seconds(*g[0:4]), _seconds(*g[4:8]), _clean(body, vtt=vtt)), i


def parse_vtt(text: str, file: object = "captions.vtt") -> list[Cue]:
    """The cues of WebVTT text; the header, NOTE, STYLE and REGION blocks are skipped."""
    lines = _lines(text)
    if not lines or not (lines[0] == "WEBVTT" or lines[0].startswith(("WEBVTT ", "WEBVTT\t"))):
        raise _fail(file, 1, 'a WebVTT file starts with "WEBVTT"')
    i = 1
    while i < len(lines) and lines[i].strip():  # the rest of the header block
        i += 1
    cues: list[Cue] = []
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        first = lines[i].strip()
        if first.split(maxsplit=1)[0] in ("NOTE", "STYLE", "REGION") and "-->" not in first:
            while i < len(lines) and lines[i].strip():
                i += 1
            continue
        if "-->" not in lines[i]:  # a cue identifier
            i += 1
            if i >= len(lines) or "-->" not in lines[i]:
                raise _fail(file, i, f"expected a timing line after the cue identifier {first[:40]!r}")
        match = _VTT_TIME.match(lines[i].strip())
        if match is None:
            raise _fail(file, i + 1, f"bad timing line {lines[i].strip()[:60]!r} (write 00:01.000 --> 00:02.500)")
        cue, i = _cue(file, lines, i, match, vtt=True)
        cues.append(cue)
    return cues


def _read_text(path: Path, what: str) -> str:
    raw = read_regular(path, what, MAX_CAPTION_BYTES)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(f"{path}:{line}: not UTF-8 text (bad byte at offset {exc.start})") from exc


def read_caption_file(path: Path) -> list[Cue]:
    """The cues of a ``.srt`` or ``.vtt`` file (by its suffix; a file starting "WEBVTT" is WebVTT)."""
    text = _read_text(path, "caption file")
    if path.suffix.lower() == ".vtt" or text.lstrip("\ufeff").startswith("WEBVTT"):
        return parse_vtt(text, path)
    return parse_srt(text, path)


def read_words(path: Path) -> list[Word]:
    """Word timings from JSON: ``[{"word": "Hello", "start": 0.5, "end": 0.8}, ...]``."""
    text = _read_text(path, "word timings")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, list):
        raise SpecError(f"{path}:1: word timings are a list of {{word, start, end}}")
    lines = _item_lines(text, len(data))
    words: list[Word] = []
    for index, item in enumerate(data):
        line = lines[index]
        if not isinstance(item, dict) or set(item) - {"word", "start", "end"} or not {"word", "start"} <= set(item):
            raise SpecError(f"{path}:{line}: item {index} is not {{word, start, end}}")
        word, start, end = item["word"], item["start"], item.get("end", item["start"])
        if not isinstance(word, str) or not word.strip():
            raise SpecError(f"{path}:{line}: item {index}: word must be non-empty text")
        if not (_number(start) and _number(end)) or end < start:
            raise SpecError(f"{path}:{line}: item {index}: start and end are seconds, with start <= end")
        words.append(Word(word.strip(), float(start), float(end)))
    return sorted(words, key=lambda w: w.start)


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def _item_lines(text: str, count: int) -> list[int]:
    """The line on which each top-level object of a JSON list starts (for messages)."""
    lines, depth, line, in_string, escaped = [], 0, 1, False, False
    for ch in text:
        if ch == "\n":
            line += 1
        if in_string:
            escaped = not escaped and ch == "\\"
            if ch == '"' and not escaped:
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth == 2:
                lines.append(line)
        elif ch in "]}":
            depth -= 1
    return (lines + [line] * count)[:count]


# -- cues and words ---------------------------------------------------------------------


def _norm(word: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", word).casefold() if ch.isalnum())


def attach_words(cues: Sequence[Cue], words: Sequence[Word]) -> list[Cue]:
    """Each cue with the timings of the words said within it, matched to its tokens in order."""
    out = []
    for cue in cues:
        tokens = [_norm(t) for t in cue.tokens]
        timed: list[tuple[int, float]] = []
        at = 0
        for word in words:
            if not cue.start <= (word.start + word.end) / 2 < cue.end:
                continue
            key = _norm(word.text)
            for j in range(at, len(tokens)):
                if tokens[j] == key:
                    timed.append((j, max(word.start, cue.start)))
                    at = j + 1
                    break
        out.append(Cue(cue.start, cue.end, cue.text, tuple(timed)))
    return out


def cues_from_words(words: Sequence[Word], max_chars: int = 42, max_seconds: float = 5.0) -> list[Cue]:
    """Words grouped into cues: a new cue after a sentence ends, a pause of 0.6 s, or when
    one would pass `max_chars` characters or `max_seconds`."""
    cues: list[Cue] = []
    group: list[Word] = []

    def close() -> None:
        if group:
            text = " ".join(w.text for w in group)
            end = max(group[-1].end, group[-1].start + 0.2)
            cues.append(Cue(group[0].start, end, text, tuple((i, w.start) for i, w in enumerate(group))))
            group.clear()

    for word in words:
        if group:
            length = sum(len(w.text) + 1 for w in group) + len(word.text)
            pause = word.start - group[-1].end
            if length > max_chars or word.start - group[0].start > max_seconds or pause > 0.6:
                close()
        group.append(word)
        if word.text[-1] in ".?!。？！":
            close()
    close()
    # A cue lasts until the next starts at the latest.
    return [
        Cue(c.start, min(c.end, cues[i + 1].start) if i + 1 < len(cues) else c.end, c.text, c.words)
        for i, c in enumerate(cues)
    ]


def cue_frames(cues: Sequence[Cue], fps: int) -> list[int]:
    """Frames at which what the captions show changes: cue starts and ends, and word starts."""
    frames: set[int] = set()
    for cue in cues:
        for seconds in (cue.start, cue.end, *(start for _, start in cue.words)):
            frames.add(first_frame_at(seconds, fps))
    return sorted(frames)


def first_frame_at(seconds: float, fps: int) -> int:
    """The first frame that shows time `seconds` or later (frame f shows f / fps)."""
    return math.ceil(seconds * fps - 1e-6)


# -- writing ---------------------------------------------------------------------------


def _stamp(seconds: float, separator: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def write_srt(cues: Sequence[Cue]) -> str:
    """SubRip text of `cues`."""
    blocks = [f"{n}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{c.text}\n" for n, c in enumerate(cues, start=1)]
    return "\n".join(blocks)


def write_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text of `cues` (&, < and > escaped)."""
    blocks = ["WEBVTT\n"]
    for c in cues:
        text = c.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks.append(f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{text}\n")
    return "\n".join(blocks)


# -- the soft track ------------------------------------------------------------------------

# mov_text's encoder wants an ASS header to open; the muxer only reads its defaults.
_ASS_HEADER = (
    b"[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n[V4+ Styles]\n"
    b"Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
    b"Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
    b"MarginR, MarginV, Encoding\nStyle: Default,Sans,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0"
    b"\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)


def mux_soft_track(video: Path, cues: Sequence[Cue], language: str | None = None) -> None:
    """Rewrite MP4 `video` in place with a `mov_text` subtitle stream of `cues` (times in ms)."""
    import av

    from .output import atomic_output

    with atomic_output(video) as tmp:
        try:
            with (
                av.open(str(video)) as src,
                av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as dst,
            ):
                copies = {s.index: dst.add_stream_from_template(s, opaque=True) for s in src.streams}
                for index, copy in copies.items():  # the cover stays a cover
                    copy.disposition = src.streams[index].disposition
                track = dst.add_stream("mov_text")
                track.time_base = track.codec_context.time_base = Fraction(1, 1000)
                track.codec_context.subtitle_header = _ASS_HEADER
                if language:
                    track.metadata["language"] = language
                for packet in src.demux():
                    if packet.dts is None:
                        if packet.size == 0 or not packet.stream.disposition & av.stream.Disposition.attached_pic:
                            continue  # the demuxer's flush packet
                        packet.pts = packet.dts = 0  # the cover picture, timed as engine.cover writes it
                    packet.stream = copies[packet.stream.index]
                    dst.mux(packet)
                for n, cue in enumerate(cues):  # a cue ends where the next begins: one at a time
                    end = min(cue.end, cues[n + 1].start) if n + 1 < len(cues) else cue.end
                    data = cue.text.encode()[:65535]
                    packet = av.Packet(struct.pack(">H", len(data)) + data)
                    packet.stream = track
                    packet.time_base = track.time_base
                    packet.pts = packet.dts = round(cue.start * 1000)
                    packet.duration = max(1, round(end * 1000) - packet.pts)
                    dst.mux(packet)
        except av.FFmpegError as exc:
            raise RenderError(f"cannot add the subtitle track to {video}: {exc}") from exc


def write_sidecars(video: Path, cues: Sequence[Cue], tag: str = "") -> list[Path]:
    """``NAME.srt`` and ``NAME.vtt`` beside `video`, each written atomically."""
    from .output import atomic_output

    written = []
    for suffix, text in ((".srt", write_srt(cues)), (".vtt", write_vtt(cues))):
        path = Path(video).with_suffix(suffix)
        with atomic_output(path, tag) as tmp:
            tmp.write_text(text, encoding="utf-8")
        written.append(path)
    return written
