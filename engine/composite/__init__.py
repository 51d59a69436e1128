"""Compositors: turn slides plus a frame description into an NV12 frame.

Backends are named in a preference table and imported lazily, so `import engine` needs
neither OpenGL nor anything else a backend uses. ``auto`` tries each in order and
records why one was skipped; a backend named explicitly that cannot start raises
`BackendUnavailableError`.
"""

from __future__ import annotations

import importlib
import logging

from ..errors import BackendUnavailableError
from .base import Compositor, FrameSpec, SlideHandle

__all__ = ["Compositor", "FrameSpec", "SlideHandle", "open_compositor", "COMPOSITORS"]

log = logging.getLogger(__name__)

#: name → "module:Class", in order of preference for "auto".
COMPOSITORS: dict[str, str] = {
    "gl": "engine.composite.gl:GLCompositor",
    "cpu": "engine.composite.cpu:CPUCompositor",
}


def _load(name: str):
    module, _, cls = COMPOSITORS[name].partition(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError) as exc:
        raise BackendUnavailableError(f"compositor {name} cannot be loaded: {exc}") from exc


def open_compositor(name: str, width: int, height: int, fallbacks: list[str] | None = None) -> Compositor:
    """Start compositor `name` ("auto", "gl" or "cpu") for frames of `width`×`height`.

    With "auto", each backend that fails to start adds a line to `fallbacks` (when
    given) saying why, and the next one is tried.
    """
    if name != "auto" and name not in COMPOSITORS:
        raise BackendUnavailableError(f"unknown compositor {name!r}; use auto, {', '.join(COMPOSITORS)}")
    candidates = list(COMPOSITORS) if name == "auto" else [name]
    reasons = []
    for candidate in candidates:
        try:
            return _load(candidate)(width, height)
        except BackendUnavailableError as exc:
            if name != "auto":
                raise
            reasons.append(f"compositor {candidate} unavailable: {exc}")
            log.info(reasons[-1])
            if fallbacks is not None:
                fallbacks.append(reasons[-1])
    raise BackendUnavailableError("; ".join(reasons))
