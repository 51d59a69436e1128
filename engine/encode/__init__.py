"""Encoders: NV12 frames in, a finished MP4 out.

Which encoder runs is decided by *probing*: each candidate is opened and fed one tiny
frame (cached per process); a hardware encoder is then also opened at the render's
own size and rate, since hardware has limits a tiny frame does not meet. ``auto``
walks the preference table for the output's codec, hardware first, and records why
each candidate was skipped; an encoder named explicitly that does not work here is a
`CodecNotSupportedError` that lists the encoders that do.

    auto, h264:  nvenc → h264_nvenc → h264_qsv → h264_vaapi → h264_videotoolbox → libx264
    auto, hevc:  nvenc_hevc → hevc_nvenc → hevc_qsv → hevc_vaapi → hevc_videotoolbox → libx265
    auto, av1:   av1_nvenc → av1_qsv → libsvtav1

``nvenc``/``nvenc_hevc`` are PyNvVideoCodec (`nvenc.py`); the rest are FFmpeg's
encoders driven through PyAV (`pyav.py`).
"""

from __future__ import annotations

import importlib
import logging
from functools import cache, lru_cache
from typing import NamedTuple

from ..errors import CodecNotSupportedError
from ..platforms import normalize_codec
from .base import Encoder, EncodeSettings, EncodeStats

__all__ = [
    "ENCODERS",
    "EncodeSettings",
    "EncodeStats",
    "Encoder",
    "EncoderEntry",
    "auto_encoder",
    "codec_for",
    "open_encoder",
    "probe_encoder",
    "working_encoders",
]

log = logging.getLogger(__name__)


class EncoderEntry(NamedTuple):
    codec: str  # what it writes: h264 | hevc | av1
    target: str  # the FFmpeg encoder (backend "pyav"), or the codec PyNvVideoCodec writes
    backend: str = "pyav"  # a key of _BACKENDS


#: name → what it writes and how. Order within a codec is the "auto" preference:
#: hardware first (it costs no CPU), software last (it always works).
ENCODERS: dict[str, tuple] = {
    "nvenc": EncoderEntry("h264", "h264", "nvenc"),
    "h264_nvenc": EncoderEntry("h264", "h264_nvenc"),
    "h264_qsv": EncoderEntry("h264", "h264_qsv"),
    "h264_vaapi": EncoderEntry("h264", "h264_vaapi"),
    "h264_videotoolbox": EncoderEntry("h264", "h264_videotoolbox"),
    "libx264": EncoderEntry("h264", "libx264"),
    "nvenc_hevc": EncoderEntry("hevc", "hevc", "nvenc"),
    "hevc_nvenc": EncoderEntry("hevc", "hevc_nvenc"),
    "hevc_qsv": EncoderEntry("hevc", "hevc_qsv"),
    "hevc_vaapi": EncoderEntry("hevc", "hevc_vaapi"),
    "hevc_videotoolbox": EncoderEntry("hevc", "hevc_videotoolbox"),
    "libx265": EncoderEntry("hevc", "libx265"),
    "av1_nvenc": EncoderEntry("av1", "av1_nvenc"),
    "av1_qsv": EncoderEntry("av1", "av1_qsv"),
    "libsvtav1": EncoderEntry("av1", "libsvtav1"),
}

#: backend → "module:Class"; a backend module also has `probe(target, settings)`.
_BACKENDS = {
    "pyav": "engine.encode.pyav:PyAVEncoder",
    "nvenc": "engine.encode.nvenc:NvencEncoder",
}

#: Software encoders: no size or session limits beyond the codec's own.
_SOFTWARE = {"libx264", "libx265", "libsvtav1"}


def _entry(name: str) -> EncoderEntry:
    return EncoderEntry(*ENCODERS[name])


def _backend(entry: EncoderEntry):
    module, _, cls = _BACKENDS[entry.backend].partition(":")
    loaded = importlib.import_module(module)
    return loaded, getattr(loaded, cls)


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


@cache
def probe_encoder(name: str) -> str | None:
    """None if encoder `name` really opens and encodes here, else the reason it does not."""
    if name not in ENCODERS:
        return f"unknown encoder {name!r}"
    entry = _entry(name)
    module, _ = _backend(entry)
    return module.probe(entry.target, _probe_settings(entry.codec))


@cache
def _probe_for(name: str, settings: EncodeSettings) -> str | None:
    """For hardware: does `name` also open at this render's size, rate and bitrate?"""
    entry = _entry(name)
    module, _ = _backend(entry)
    reason = module.probe(entry.target, settings)
    return None if reason is None else f"{reason} (at {settings.width}x{settings.height}, {settings.fps} fps)"


def _usable(name: str, settings: EncodeSettings | None) -> str | None:
    reason = probe_encoder(name)
    if reason is None and settings is not None and _entry(name).target not in _SOFTWARE:
        reason = _probe_for(name, settings)
    return reason


def working_encoders() -> list[str]:
    """The encoders that work on this machine (probing each, once per process)."""
    return [name for name in ENCODERS if probe_encoder(name) is None]


def _what_works() -> str:
    working = working_encoders()
    if not working:
        return "no encoder works on this machine"
    return "encoders that work here: " + ", ".join(f"{n} ({_entry(n).codec})" for n in working)


def auto_encoder(codec: str, settings: EncodeSettings | None = None, fallbacks: list[str] | None = None) -> str | None:
    """The encoder "auto" picks for `codec`, or None; each one skipped is added to
    `fallbacks` with its reason."""
    codec = normalize_codec(codec)
    for name in ENCODERS:
        if _entry(name).codec != codec:
            continue
        reason = _usable(name, settings)
        if reason is None:
            return name
        skipped = f"encoder {name} unavailable: {reason}"
        log.info(skipped)
        if fallbacks is not None:
            fallbacks.append(skipped)
    return None


def codec_for(encoder: str, codec: str | None = None) -> str | None:
    """The codec to write, from the codec asked for (or None) and the encoder choice.

    A named encoder implies its codec (``libx265`` → hevc); asking for another codec
    with it is an error. None means "the platform's own" (h264).
    """
    if codec is not None:
        codec = normalize_codec(codec)
    if encoder == "auto" or encoder not in ENCODERS:
        return codec
    own = _entry(encoder).codec
    if codec is not None and codec != own:
        raise CodecNotSupportedError(
            f"encoder {encoder} writes {own}, not {codec}; for {codec} use auto or one of "
            + ", ".join(n for n in ENCODERS if _entry(n).codec == codec)
        )
    return own


def open_encoder(name: str, settings: EncodeSettings, fallbacks: list[str] | None = None) -> Encoder:
    """An unopened encoder for `settings`: `name` is "auto" or a key of ENCODERS."""
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
        entry = _entry(name)
        if entry.codec != settings.codec:
            others = [n for n in ENCODERS if _entry(n).codec == settings.codec]
            raise CodecNotSupportedError(
                f"encoder {name} writes {entry.codec}, but this output is {settings.codec}; "
                f"ask for codec {entry.codec}, or use auto or one of {', '.join(others)}"
            )
        reason = _usable(name, settings)
        if reason is not None:
            raise CodecNotSupportedError(f"encoder {name} does not work on this machine: {reason}; {_what_works()}")
    else:
        raise CodecNotSupportedError(f"unknown encoder {name!r}; use auto or one of {', '.join(ENCODERS)}")
    entry = _entry(chosen)
    _, cls = _backend(entry)
    return cls(settings, entry.target, name=chosen)
