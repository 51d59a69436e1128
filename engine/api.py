"""The Python API: load a deck, render it for a platform, or grab one frame."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .errors import SpecError
from .output import check_target
from .pipeline import ProgressCallback, render_output, render_still
from .platforms import Output, Platform, resolve_output
from .report import RenderReport
from .spec import Deck, load_deck

__all__ = ["deck_name", "output_path", "render", "render_frame"]


def deck_name(deck: Deck) -> str:
    """A file-name-safe name for the deck: its file's stem, else its title, else "deck"."""
    if deck.source is not None:
        return deck.source.stem
    title = deck.title or "deck"
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower() or "deck"


#: The endings that make `out` a file rather than a folder.
_VIDEO_SUFFIXES = (".mp4", ".webm", ".gif")
#: Endings of videos and pictures Reel does not write: `out` named so is a mistake,
#: not a folder to make.
_OTHER_MEDIA_SUFFIXES = frozenset({".mov", ".mkv", ".avi", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".ogv"})
_OTHER_MEDIA_SUFFIXES |= {".mts", ".m2ts", ".3gp", ".apng", ".png", ".jpg", ".jpeg", ".webp", ".mp3", ".wav"}


def output_path(out: str | Path, name: str, output: Output, format: str = "mp4") -> Path:
    """`out` itself when it names a video file (.mp4, .webm, .gif), else
    ``out/<name>-<label>.<format>``. A file named for another format than `format` is a
    SpecError naming both; so is one named for a format Reel does not write (``x.mov``),
    unless it is a folder already there."""
    from .encode.backends import container_for

    suffix = container_for(format).suffix
    out = Path(out)
    if out.suffix.lower() in _OTHER_MEDIA_SUFFIXES and not out.is_dir():
        raise SpecError(
            f"{out}: Reel writes .mp4, .webm (--format webm) or .gif (--format gif), not {out.suffix}; "
            f"name it {out.stem}{suffix}, or give a folder",
            "out",
        )
    if out.suffix.lower() in _VIDEO_SUFFIXES:
        if out.suffix.lower() != suffix:
            raise SpecError(
                f"{out} is named {out.suffix}, but the format is {format}; name it {out.stem}{suffix} "
                f"or ask for --format {out.suffix.lower()[1:]}",
                "out",
            )
        return out
    return out / f"{name}-{output.label}{suffix}"


def render(
    deck: Deck | dict | str | Path,
    out: str | Path,
    *,
    platform: str | Platform = "youtube",
    quality: str = "standard",
    compositor: str = "auto",
    encoder: str = "auto",
    codec: str | None = None,
    on_progress: ProgressCallback | None = None,
    thumbnail: bool = False,
    skip_holds: bool = True,
    format: str = "mp4",
) -> RenderReport:
    """Render `deck` for one platform into `out` (an .mp4 path, or a folder).

    `compositor` is "auto", "gl" or "cpu"; `encoder` is "auto" or an encoder name
    (`reel doctor` lists them); `codec` is "h264" (the default), "hevc" or "av1" — a
    named encoder implies its own. Nothing is left at the target unless the render
    completes; a target that cannot be written raises OutputError before any work, and
    the report's `replaced` says whether a file was there before. The deck's cover frame is the MP4's cover art; `thumbnail` also writes
    it as a PNG beside the video. `skip_holds` (x264): held frames are written
    as skip frames that reference the frame before instead of being encoded again;
    False encodes every frame. `format` is "mp4" (the default), "webm" (VP9 or AV1 with
    Opus) or "gif" (a looping preview: at most 15 fps and 640 px, no sound); `out` named
    for another format is a SpecError.
    """
    from .encode import codec_for

    deck = load_deck(deck)
    output = resolve_output(platform, quality, codec=codec_for(encoder, codec))
    target = output_path(out, deck_name(deck), output, format)
    check_target(target)  # a path that cannot be written fails now, not after the encode
    if thumbnail:
        from .cover import thumbnail_path

        check_target(thumbnail_path(target))
    replaces = target.exists()
    report = render_output(
        deck,
        output,
        target,
        compositor=compositor,
        encoder=encoder,
        on_progress=on_progress,
        thumbnail=thumbnail,
        skip_holds=skip_holds,
        format=format,
    )
    report.replaced = replaces
    return report


def render_frame(
    deck: Deck | dict | str | Path,
    t: float,
    *,
    platform: str | Platform = "youtube",
    quality: str = "standard",
    compositor: str = "auto",
) -> np.ndarray:
    """The frame shown at `t` seconds, as an H×W×3 uint8 sRGB array."""
    deck = load_deck(deck)
    return render_still(deck, resolve_output(platform, quality), t, compositor=compositor)
