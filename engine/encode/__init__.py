"""Encoders: NV12 frames in, a finished MP4 out.

The contract is `base.py` (`Encoder`, `EncodeSettings`); which encoders exist and
which one a render gets is `backends.py` (the preference table `ENCODERS` and the
probing behind "auto"); `pyav.py` and `nvenc.py` are the backends, and
`conformance.py` says what a conforming stream is.
"""

from __future__ import annotations

from .backends import (
    ENCODERS,
    EncoderBackend,
    EncoderEntry,
    auto_encoder,
    codec_for,
    open_encoder,
    probe_encoder,
    working_encoders,
)
from .base import Encoder, EncodeSettings, EncodeStats

__all__ = [
    "ENCODERS",
    "EncodeSettings",
    "EncodeStats",
    "Encoder",
    "EncoderBackend",
    "EncoderEntry",
    "auto_encoder",
    "codec_for",
    "open_encoder",
    "probe_encoder",
    "working_encoders",
]
