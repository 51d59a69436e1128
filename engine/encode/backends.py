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

from ..errors import BackendUnavailableError, CodecNotSupportedError
from ..platforms import normalize_codec
from ..registry import Entry, Registry, Skips
from .base import Encoder, EncodeSettings

__all__ = [
    "ENCODERS",
    "EncoderBackend",
    "EncoderEntry",
    "auto_encoder",
    "codec_for",
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

#: Software encoders: no size or session limits beyond the codec's own.
_SOFTWARE = {"libx264", "libx265", "libsvtav1"}


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
