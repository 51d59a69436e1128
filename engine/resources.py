"""The one place that knows where bundled data (shaders, fonts) lives.

An installed wheel carries them under ``engine/_data``; a source checkout keeps them
at the repository root.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["data_dir", "font_path", "shader_source"]

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(kind: str) -> Path:
    """``shaders`` or ``fonts``: the folder holding that kind of bundled data."""
    for candidate in (_PACKAGE / "_data" / kind, _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled {kind}/ folder not found next to {_PACKAGE}; reinstall reel-engine")


@cache
def shader_source(name: str) -> str:
    """Text of ``shaders/<name>``, e.g. ``transitions/fade.glsl``; read once per process."""
    return (data_dir("shaders") / name).read_text(encoding="utf-8")


def font_path(name: str) -> Path:
    """Path of a bundled font file, e.g. ``Inter-Bold.otf``."""
    return data_dir("fonts") / name
