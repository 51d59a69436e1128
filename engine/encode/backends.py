"""Which encoders exist, which of them work here, and which one a render gets.

Which encoder runs is decided by *probing*: each candidate is opened and fed one tiny
frame (cached per process); a hardware encoder is then also opened at the render's
own size and rate, since hardware has limits a tiny frame does not meet. ``auto``
walks the preference table for the output's codec, hardware first, and records why
each candidate was skipped; an encoder named explicitly that does not work here is a
`CodecNotSupportedError` that lists the encoders that do.

    auto, h264:  nvenc → h264_nvenc → h264_qsv → h264_vaapi → h264_videotoolbox → libx264
    auto, hevc:  nvenc_hevc → hevc_nvenc → hevc_qsv → hevc_vaapi → hevc_videotoolbox → libx265
    auto, av1:   av1_nvenc → av1_qsv → libsvtav1

Containers (`FORMATS`): ``mp4`` takes the table above; ``webm`` has its own,

    auto, webm:  libvpx-vp9 → libsvtav1        (codec av1: libsvtav1 only)

probed and skipped the same way (`webm.py`); ``gif`` has one encoder, ``gif`` (`gif.py`).

``nvenc``/``nvenc_hevc`` are PyNvVideoCodec (`nvenc.py`); the rest are FFmpeg's
encoders driven through PyAV (`pyav.py`). Codec names here are already canonical
(``h264``, ``hevc``, ``av1``): `platforms.resolve_output` normalises what users write,
and `codec_for` what they ask of a named encoder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from ..errors import BackendUnavailableError, CodecNotSupportedError, SpecError
from ..platforms import normalize_codec
from ..registry import Entry, Registry, Skips
from .base import Encoder, EncodeSettings

__all__ = [
    "ENCODERS",
    "FORMATS",
    "GIF_ENCODERS",
    "WEBM_ENCODERS",
    "Container",
    "EncoderBackend",
    "EncoderEntry",
    "auto_encoder",
    "codec_for",
    "container_for",
    "open_encoder",
    "probe_encoder",
    "working_encoders",
]

log = logging.getLogger("engine.encode")


class EncoderBackend(Protocol):
    """What an encoder entry's `ref` names: an encoder class that can also probe."""

    def __call__(self, settings: EncodeSettings, target: str, /, *, name: str) -> Encoder: ...

    def probe(self, target: str, settings: EncodeSettings) -> str | None:
        """None if `target` opens and encodes a frame for `settings` here, else why not."""


@dataclass(frozen=True)
class EncoderEntry(Entry):
    """An encoder: its backend class (`ref`), the codec it writes, and what the backend drives."""

    codec: str  # h264 | hevc | av1
    target: str  # the FFmpeg encoder (PyAV), or the codec PyNvVideoCodec writes


_PYAV = "engine.encode.pyav:PyAVEncoder"
_NVENC = "engine.encode.nvenc:NvencEncoder"

#: name → what it writes and how. Order within a codec is the "auto" preference:
#: hardware first (it costs no CPU), software last (it always works).
ENCODERS: Registry[EncoderEntry, EncoderBackend] = Registry(
    "encoder",
    {
        "nvenc": EncoderEntry(_NVENC, "h264", "h264"),
        "h264_nvenc": EncoderEntry(_PYAV, "h264", "h264_nvenc"),
        "h264_qsv": EncoderEntry(_PYAV, "h264", "h264_qsv"),
        "h264_vaapi": EncoderEntry(_PYAV, "h264", "h264_vaapi"),
        "h264_videotoolbox": EncoderEntry(_PYAV, "h264", "h264_videotoolbox"),
        "libx264": EncoderEntry(_PYAV, "h264", "libx264"),
        "nvenc_hevc": EncoderEntry(_NVENC, "hevc", "hevc"),
        "hevc_nvenc": EncoderEntry(_PYAV, "hevc", "hevc_nvenc"),
        "hevc_qsv": EncoderEntry(_PYAV, "hevc", "hevc_qsv"),
        "hevc_vaapi": EncoderEntry(_PYAV, "hevc", "hevc_vaapi"),
        "hevc_videotoolbox": EncoderEntry(_PYAV, "hevc", "hevc_videotoolbox"),
        "libx265": EncoderEntry(_PYAV, "hevc", "libx265"),
        "av1_nvenc": EncoderEntry(_PYAV, "av1", "av1_nvenc"),
        "av1_qsv": EncoderEntry(_PYAV, "av1", "av1_qsv"),
        "libsvtav1": EncoderEntry(_PYAV, "av1", "libsvtav1"),
    },
)

_WEBM = "engine.encode.webm:WebMEncoder"

#: WebM's encoders, in "auto" order. Codec names here are WebM's (vp9, av1).
WEBM_ENCODERS: Registry[EncoderEntry, EncoderBackend] = Registry(
    "webm encoder",
    {
        "libvpx-vp9": EncoderEntry(_WEBM, "vp9", "libvpx-vp9"),
        "libsvtav1": EncoderEntry(_WEBM, "av1", "libsvtav1"),
    },
)
GIF_ENCODERS: Registry[EncoderEntry, EncoderBackend] = Registry(
    "gif encoder", {"gif": EncoderEntry("engine.encode.gif:GifEncoder", "gif", "gif")}
)

#: Software encoders: no size or session limits beyond the codec's own.
_SOFTWARE = {"libx264", "libx265", "libsvtav1", "libvpx-vp9", "gif"}


@dataclass(frozen=True)
class Container:
    """What a render writes besides the video stream, by output format."""

    name: str  # mp4 | webm | gif
    suffix: str  # the file name's ending
    audio: str | None  # the soundtrack's codec; None: the format has no sound
    cover: bool  # the cover frame is attached as cover art
    verify: bool  # keyframes decoded and compared with what was composited (same size, same times)
    chunks: bool  # can be rendered in chunks and joined


FORMATS: dict[str, Container] = {
    "mp4": Container("mp4", ".mp4", "aac", cover=True, verify=True, chunks=True),
    "webm": Container("webm", ".webm", "opus", cover=False, verify=True, chunks=False),
    "gif": Container("gif", ".gif", None, cover=False, verify=False, chunks=False),
}


def container_for(format: str) -> Container:
    """The `Container` of output format `format` (mp4, webm or gif; any case)."""
    found = FORMATS.get(str(format).lower())
    if found is None:
        raise SpecError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}", "format")
    return found


def _probe_settings(codec: str) -> EncodeSettings:
    # 256×256: NVENC's minimum sizes are above 64 (H.264 145×49 on some generations).
    return EncodeSettings(
        width=256,
        height=256,
        fps=30,
        codec=codec,
        gop=30,
        preset="ultrafast",
        max_bitrate=1_000_000,
        buffer_size=2_000_000,
        threads=1,
    )


def _probe(name: str, settings: EncodeSettings) -> str | None:
    entry = ENCODERS[name]
    try:
        backend = ENCODERS.load(name)
    except BackendUnavailableError as exc:
        return str(exc)
    return backend.probe(entry.target, settings)


@cache
def probe_encoder(name: str) -> str | None:
    """None if encoder `name` really opens and encodes here, else the reason it does not."""
    if name not in ENCODERS:
        return f"unknown encoder {name!r}"
    return _probe(name, _probe_settings(ENCODERS[name].codec))


@cache
def _probe_for(name: str, settings: EncodeSettings) -> str | None:
    """For hardware: does `name` also open at this render's size, rate and bitrate?"""
    reason = _probe(name, settings)
    return None if reason is None else f"{reason} (at {settings.width}x{settings.height}, {settings.fps} fps)"


def _usable(name: str, settings: EncodeSettings | None) -> str | None:
    reason = probe_encoder(name)
    if reason is None and settings is not None and ENCODERS[name].target not in _SOFTWARE:
        reason = _probe_for(name, settings)
    return reason


def working_encoders() -> list[str]:
    """The encoders that work on this machine (probing each, once per process)."""
    return [name for name in ENCODERS if probe_encoder(name) is None]


def _what_works() -> str:
    working = working_encoders()
    if not working:
        return "no encoder works on this machine"
    return "encoders that work here: " + ", ".join(f"{n} ({ENCODERS[n].codec})" for n in working)


def _writing(codec: str) -> list[str]:
    return [name for name, entry in ENCODERS.items() if entry.codec == codec]


def auto_encoder(codec: str, settings: EncodeSettings | None = None, fallbacks: list[str] | None = None) -> str | None:
    """The encoder "auto" picks for `codec` (canonical: h264, hevc, av1), or None; each
    one skipped is added to `fallbacks` with its reason."""
    skips = Skips(fallbacks, log)
    for name in _writing(codec):
        reason = _usable(name, settings)
        if reason is None:
            return name
        skips.add(f"encoder {name} unavailable: {reason}")
    return None


def codec_for(encoder: str, codec: str | None = None) -> str | None:
    """The codec to write, from the codec asked for (or None) and the encoder choice.

    A named encoder implies its codec (``libx265`` → hevc); asking for another codec
    with it is an error. None means "the platform's own" (h264). `codec` is what the
    user wrote (``h265`` is hevc): this is where a codec asked of an encoder comes in,
    before any `Output` exists, so it is normalised here.
    """
    if codec is not None:
        codec = normalize_codec(codec)
    if encoder == "auto" or encoder not in ENCODERS:
        return codec
    own = ENCODERS[encoder].codec
    if codec is not None and codec != own:
        raise CodecNotSupportedError(
            f"encoder {encoder} writes {own}, not {codec}; for {codec} use auto or one of " + ", ".join(_writing(codec))
        )
    return own


def open_encoder(
    name: str, settings: EncodeSettings, fallbacks: list[str] | None = None, format: str = "mp4"
) -> Encoder:
    """An unopened encoder for `settings`: `name` is "auto" or a key of ENCODERS (of
    WEBM_ENCODERS or GIF_ENCODERS for those formats)."""
    if container_for(format).name != "mp4":
        return _open_other(container_for(format).name, name, settings, fallbacks)
    if name == "auto":
        skipped: list[str] = []
        chosen = auto_encoder(settings.codec, settings, skipped)
        if fallbacks is not None:
            fallbacks.extend(skipped)
        if chosen is None:
            raise CodecNotSupportedError(
                f"no encoder for {settings.codec} opens on this machine"
                + (f" ({'; '.join(skipped)})" if skipped else "")
                + f"; {_what_works()}"
            )
    elif name in ENCODERS:
        chosen = name
        entry = ENCODERS[name]
        if entry.codec != settings.codec:
            raise CodecNotSupportedError(
                f"encoder {name} writes {entry.codec}, but this output is {settings.codec}; "
                f"ask for codec {entry.codec}, or use auto or one of {', '.join(_writing(settings.codec))}"
            )
        reason = _usable(name, settings)
        if reason is not None:
            raise CodecNotSupportedError(f"encoder {name} does not work on this machine: {reason}; {_what_works()}")
    else:
        raise CodecNotSupportedError(f"unknown encoder {name!r}; use auto or one of {', '.join(ENCODERS)}")
    return ENCODERS.load(chosen)(settings, ENCODERS[chosen].target, name=chosen)


def _open_other(format: str, name: str, settings: EncodeSettings, fallbacks: list[str] | None) -> Encoder:
    """An unopened WebM or GIF encoder: "auto" walks the format's table, skipping (and
    recording) what does not work; a named one that does not work raises."""
    table = WEBM_ENCODERS if format == "webm" else GIF_ENCODERS
    candidates = list(table)
    if format == "webm" and settings.codec != "h264":  # h264 is every platform's default: no choice made
        candidates = [n for n in table if table[n].codec == settings.codec]
        if not candidates:
            raise CodecNotSupportedError(f"WebM has no {settings.codec}; it carries vp9 (the default) or av1")
    if name != "auto":
        if name not in table:
            raise CodecNotSupportedError(f"{format} is written by {', '.join(table)}, not {name!r}; or use auto")
        candidates = [name]
    skips = Skips(fallbacks, log)
    for candidate in candidates:
        reason = _probe_other(format, candidate)
        if reason is None:
            return table.load(candidate)(settings, table[candidate].target, name=candidate)
        if name != "auto":
            raise CodecNotSupportedError(f"encoder {candidate} does not work on this machine: {reason}")
        skips.add(f"encoder {candidate} unavailable: {reason}")
    raise CodecNotSupportedError(f"no {format} encoder opens on this machine ({skips})")


@cache
def _probe_other(format: str, name: str) -> str | None:
    """None if `format`'s encoder `name` opens and encodes a tiny frame here (once per process)."""
    table = WEBM_ENCODERS if format == "webm" else GIF_ENCODERS
    try:
        backend = table.load(name)
    except BackendUnavailableError as exc:
        return str(exc)
    return backend.probe(table[name].target, _probe_settings("av1" if table[name].codec == "av1" else "h264"))
