"""`reel doctor`: what this machine can really do, found by trying each backend.

Every encoder in the table is opened and fed a frame: "works", or "unavailable: " and
the reason (FFmpeg's or PyNvVideoCodec's own words). ``auto h264`` (and hevc, av1)
says which one a render would use. ``text`` says whether complex scripts are shaped
(libraqm really lays out a right-to-left string, or what goes wrong without it), how
many system fonts fontconfig offers, and which font draws Arabic, Hebrew, Devanagari,
Thai, CJK, Hangul and emoji when the theme's and the bundled fonts lack them.
"""

from __future__ import annotations

import platform
import sys

__all__ = ["diagnose"]


def diagnose() -> dict[str, dict[str, str]]:
    from . import __version__
    from .composite import COMPOSITORS, open_compositor
    from .encode import ENCODERS, auto_encoder, probe_encoder
    from .errors import BackendUnavailableError
    from .platforms import CODECS

    facts: dict[str, dict[str, str]] = {
        "reel": {"version": __version__, "python": sys.version.split()[0], "machine": platform.machine()},
        "compositors": {},
        "encoders": {},
    }
    for name in COMPOSITORS:
        try:
            compositor = open_compositor(name, 64, 64)
        except BackendUnavailableError as exc:
            facts["compositors"][name] = f"unavailable: {exc}"
        else:
            facts["compositors"][name] = f"ok: {compositor.kind}, {compositor.renderer}"
            compositor.close()
    skipped: list[str] = []
    try:
        chosen = open_compositor("auto", 64, 64, skipped)
    except BackendUnavailableError as exc:
        facts["compositors"]["auto"] = f"none: {exc}"
    else:
        facts["compositors"]["auto"] = f"{chosen.name}" + (f" ({'; '.join(skipped)})" if skipped else "")
        chosen.close()
    for name in ENCODERS:
        reason = probe_encoder(name)
        facts["encoders"][name] = "works" if reason is None else f"unavailable: {reason}"
    for codec in CODECS:
        facts["encoders"][f"auto {codec}"] = auto_encoder(codec) or "none: no encoder for it works here"
    try:
        import av

        facts["reel"]["pyav"] = f"{av.__version__} (FFmpeg {av.ffmpeg_version_info})"
    except Exception as exc:  # av is a dependency, but doctor must never crash
        facts["reel"]["pyav"] = f"unavailable: {exc}"
    try:
        from .text import diagnose_text

        facts["text"] = diagnose_text()
    except Exception as exc:  # noqa: BLE001 - doctor reports, never crashes
        facts["text"] = {"error": f"{type(exc).__name__}: {exc}"}
    return facts
