"""`reel doctor`: what this machine can really do, found by trying each backend.

Every encoder in the table is opened and fed a frame: "works", or "unavailable: " and
the reason (FFmpeg's or PyNvVideoCodec's own words). ``auto h264`` (and hevc, av1)
says which one a render would use. ``text`` says whether complex scripts are shaped
(libraqm really lays out a right-to-left string, or what goes wrong without it), how
many system fonts fontconfig offers, and which font draws Arabic, Hebrew, Devanagari,
Thai, CJK, Hangul and emoji when the theme's and the bundled fonts lack them.
``narration`` says whether espeak-ng speaks (a word, tried) for slides that ``say`` text.

``reel doctor --clean DIR`` (`clean`) removes the hidden ``.part`` files that renders
killed with SIGKILL left in DIR, once their process no longer runs, and says which.
"""

from __future__ import annotations

import os
import platform
import stat
import sys
from pathlib import Path

__all__ = ["clean", "diagnose", "diagnose_speech"]


def diagnose() -> dict[str, dict[str, str]]:
    from .composite import COMPOSITORS, open_compositor
    from .encode import ENCODERS, auto_encoder, probe_encoder
    from .errors import BackendUnavailableError
    from .platforms import CODECS
    from .version import __version__

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
    except Exception as exc:  # noqa: BLE001 - av is a dependency, but doctor must never crash
        facts["reel"]["pyav"] = f"unavailable: {exc}"
    facts["narration"] = diagnose_speech()
    try:
        from .text import diagnose_text

        facts["text"] = diagnose_text()
    except Exception as exc:  # noqa: BLE001 - doctor reports, never crashes
        facts["text"] = {"error": f"{type(exc).__name__}: {exc}"}
    return facts


def diagnose_speech() -> dict[str, str]:
    """Whether a slide's ``"voiceover": {"say": ...}`` can be spoken here: espeak-ng tried on a word."""
    import tempfile

    from .speech import EspeakNg

    engine = EspeakNg()
    reason = engine.unavailable()
    if reason is not None:
        return {engine.name: f"unavailable: {reason}"}
    try:
        with tempfile.TemporaryDirectory(prefix="reel-doctor-") as folder:
            words = engine.say("ready", "en", Path(folder) / "ready.wav")
    except Exception as exc:  # noqa: BLE001 - doctor reports, never crashes
        return {engine.name: f"unavailable: {type(exc).__name__}: {exc}"}
    timed = "with word timings" if [w.text for w in words] == ["ready"] else "without word timings"
    return {engine.name: f"works ({timed}): espeak-ng {engine.version()}"}


def clean(folder: str | Path) -> dict:
    """Remove the temporaries in `folder` whose writing process is gone (`reel doctor --clean`).

    Returns ``removed`` and ``kept`` (paths) and ``lines`` saying what was done and why
    each kept one was kept. Raises OutputError if `folder` is not a folder.
    """
    from .errors import OutputError
    from .output import output_error, sweep_temporaries

    folder = Path(folder)
    try:
        is_folder = stat.S_ISDIR(os.stat(folder).st_mode)
    except FileNotFoundError:
        raise OutputError(f"{folder}: no such folder to clean", folder) from None
    except OSError as exc:
        raise output_error(exc, folder) from exc
    if not is_folder:
        raise OutputError(f"{folder}: not a folder; give the folder to clean", folder)
    sweep = sweep_temporaries(folder)
    removed = [str(temporary.path) for temporary in sweep.removed]
    kept = [str(temporary.path) for temporary, _ in sweep.kept]
    lines = [
        f"removed {temporary.path} (process {temporary.pid} on this host no longer runs)" for temporary in sweep.removed
    ]
    lines += [f"kept {temporary.path}: {why}" for temporary, why in sweep.kept]
    lines.append(
        f"{folder}: removed {len(removed)} stale temporary file{'s' if len(removed) != 1 else ''}"
        + (f", kept {len(kept)}" if kept else "")
    )
    return {"folder": str(folder), "removed": removed, "kept": kept, "lines": lines}
