"""Compositors: turn slides plus a frame description into an NV12 frame.

The contract is `base.py` (`Compositor`, `FrameSpec`); which compositors exist and
which one a render gets is `backends.py` (`COMPOSITORS`, `open_compositor`); `gl.py`
and `cpu.py` are the backends, `twins.py` the numpy twins of the transition shaders
and `layers.py` the drawing of slides in motion.
"""

from __future__ import annotations

from .backends import COMPOSITORS, open_compositor
from .base import Compositor, FrameSpec, SlideHandle

__all__ = ["COMPOSITORS", "Compositor", "FrameSpec", "SlideHandle", "open_compositor"]
