"""Encoders: NV12 frames in, a finished MP4 out.

Which encoder runs is decided by *probing*: each candidate is opened and fed one tiny
frame (cached per process). ``auto`` walks the preference table and records why a
candidate was skipped; an encoder named explicitly that fails its probe raises.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from ..errors import BackendUnavailableError, CodecNotSupportedError
from .base import EncodeSettings, EncodeStats, Encoder

__all__ = ["EncodeSettings", "EncodeStats", "Encoder", "ENCODERS", "open_encoder", "probe_encoder"]

log = logging.getLogger(__name__)

#: name → (codec it writes, FFmpeg encoder PyAV drives). Order is the "auto" preference.
#: Hardware encoders (NVENC, PyNvVideoCodec) join this table with their own probes.
ENCODERS: dict[str, tuple[str, str]] = {
    "libx264": ("h264", "libx264"),
}


@lru_cache(maxsize=None)
def probe_encoder(name: str) -> str | None:
    """None if encoder `name` really opens and encodes here, else the reason it does not."""
    if name not in ENCODERS:
        return f"unknown encoder {name!r}"
    from .pyav import probe

    return probe(ENCODERS[name][1])


def open_encoder(name: str, settings: EncodeSettings, fallbacks: list[str] | None = None) -> Encoder:
    """An unopened encoder for `settings`: `name` is "auto" or a key of ENCODERS."""
    if name != "auto" and name not in ENCODERS:
        raise BackendUnavailableError(f"unknown encoder {name!r}; use auto, {', '.join(ENCODERS)}")
    candidates = [n for n, (codec, _) in ENCODERS.items() if codec == settings.codec] if name == "auto" else [name]
    reasons = []
    for candidate in candidates:
        reason = probe_encoder(candidate)
        if reason is None:
            from .pyav import PyAVEncoder

            return PyAVEncoder(settings, ENCODERS[candidate][1])
        if name != "auto":
            raise BackendUnavailableError(f"encoder {candidate} does not open on this machine: {reason}")
        reasons.append(f"encoder {candidate} unavailable: {reason}")
        log.info(reasons[-1])
        if fallbacks is not None:
            fallbacks.append(reasons[-1])
    raise CodecNotSupportedError(
        f"no encoder for {settings.codec} opens on this machine" + (f" ({'; '.join(reasons)})" if reasons else "")
    )
