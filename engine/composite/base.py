"""The contract between the timeline and a compositor.

A compositor holds each slide as YUV 4:2:0 planes, converted once at `upload`, and
composites frames *in YUV space*: every built-in transition is affine in colour, so
blending converted planes equals converting the blended RGB (within rounding). A frame
is read back as one NV12 buffer, the format the encoders take.

    c = open_compositor("auto", width, height)
    a = c.upload("slide-0", rgba0); b = c.upload("slide-1", rgba1)
    c.render(FrameSpec(a))                                   # a hold
    c.render(FrameSpec(a, b, "fade", 0.5, {}))               # a transition frame
    c.read_nv12(into=buffer)                                 # W*H*3/2 bytes
    c.close()

A slide in motion is uploaded as layers instead (`upload_layers`, engine.raster.layers)
and every frame that shows it carries its `MotionState` (engine.motion): the
compositor first draws the slide in that state (see engine.composite.layers), then
holds or transitions as for any slide.

Compositors are not thread-safe: create, use and close one on a single thread (a GL
context is current on one thread only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..colour import nv12_size, rgb_to_yuv
from ..errors import BackendUnavailableError, SpecError
from ..motion import MotionState
from ..raster.layers import SlideLayers
from ..transitions import BUILTIN, image_path, resolve_params
from ..usershader import user_transition_file

__all__ = [
    "Compositor",
    "FrameSpec",
    "SlideHandle",
    "TransitionStep",
    "check_image",
    "check_into",
    "check_layers",
    "check_nv12",
    "check_size",
    "matte_planes",
    "plan_transition",
]

# A plane's uniforms: floats, colour triples as that plane's components, matte planes.
PlaneParams = Mapping[str, Any]


@dataclass(frozen=True)
class SlideHandle:
    """A slide the compositor holds; opaque outside the compositor that made it."""

    key: str
    index: int


@dataclass(frozen=True)
class FrameSpec:
    """One frame: `source` alone (a hold), or `source` → `target` at `progress`."""

    source: SlideHandle
    target: SlideHandle | None = None
    transition: str | None = None
    progress: float = 0.0
    # Resolved parameters (engine.transitions.resolve_params): floats and RGB triples.
    params: Mapping[str, Any] = field(default_factory=dict)
    # Where a layered slide's layers are in this frame; None for a slide uploaded whole.
    source_state: MotionState | None = None
    target_state: MotionState | None = None


@runtime_checkable
class Compositor(Protocol):
    name: str  # "gl" | "cpu"
    kind: str  # "gl-gpu" | "gl-software" | "cpu": what the report shows
    renderer: str  # e.g. "llvmpipe (LLVM 15.0.6, 256 bits)" or "numpy"
    width: int
    height: int

    def upload(self, key: str, image: np.ndarray) -> SlideHandle:
        """Take an H×W×3/×4 uint8 sRGB slide at the output size; convert it to YUV once."""

    def upload_layers(self, key: str, layers: SlideLayers) -> SlideHandle:
        """Take a slide in motion as layers at the output size; convert them to YUV once."""

    def upload_nv12(self, key: str, nv12: np.ndarray) -> SlideHandle:
        """Take a slide already in NV12 (a flat uint8 buffer at the output size), as it is:
        a video clip's frame, decoded and scaled straight to NV12. The compositor may keep
        the buffer itself: the caller does not write to it again."""

    def render(self, frame: FrameSpec) -> None:
        """Composite `frame` into the compositor's current frame."""

    def release(self, handle: SlideHandle) -> None:
        """Free an uploaded slide no later frame shows; its handle becomes invalid."""

    def read_nv12(self, into: np.ndarray) -> None:
        """Copy the current frame, as NV12, into the flat uint8 array `into`."""

    def close(self) -> None:
        """Free textures, buffers and contexts. Safe to call twice."""


# --- checks and planning shared by both compositors ---------------------------------


def check_size(width: int, height: int) -> None:
    if not (isinstance(width, int) and isinstance(height, int)) or width < 2 or height < 2:
        raise ValueError(f"frame size must be two integers ≥ 2, got {width!r}×{height!r}")
    if width % 2 or height % 2:
        raise ValueError(f"4:2:0 video needs an even width and height, got {width}×{height}")


def check_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """The slide as a C-contiguous H×W×3/×4 uint8 array, or a ValueError saying what is off."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"a slide must be an H×W×3 or H×W×4 uint8 array, got {image.dtype} {image.shape}")
    if image.shape[:2] != (height, width):
        raise ValueError(f"slide is {image.shape[1]}×{image.shape[0]} but the compositor renders {width}×{height}")
    return np.ascontiguousarray(image)


def check_nv12(buffer: np.ndarray, width: int, height: int) -> np.ndarray:
    """`buffer` as a flat NV12 frame of width × height, or a ValueError saying what is off."""
    if not isinstance(buffer, np.ndarray) or buffer.dtype != np.uint8 or buffer.size != nv12_size(width, height):
        raise ValueError(f"an NV12 slide must be {nv12_size(width, height)} uint8 bytes for {width}×{height}")
    return np.ascontiguousarray(buffer).reshape(-1)


def check_into(into: np.ndarray, width: int, height: int) -> None:
    size = nv12_size(width, height)
    if not isinstance(into, np.ndarray) or into.dtype != np.uint8 or into.ndim != 1 or into.size != size:
        got = f"{into.dtype} {into.shape}" if isinstance(into, np.ndarray) else type(into).__name__
        raise ValueError(f"read_nv12 needs a flat uint8 array of {size} bytes (W*H*3/2), got {got}")
    if not into.flags.c_contiguous or not into.flags.writeable:
        raise ValueError("read_nv12 needs a contiguous, writable array")


def check_layers(layers: SlideLayers, width: int, height: int) -> None:
    """A ValueError unless `layers` are a layered slide for a width×height output."""
    if not isinstance(layers, SlideLayers):
        raise ValueError(f"upload_layers takes SlideLayers, got {type(layers).__name__}")  # noqa: TRY004 - the contract
    for name in ("static", "items"):
        layer = getattr(layers, name)
        if layer is not None and (layer.dtype != np.uint8 or layer.shape != (height, width, 4)):
            raise ValueError(f"the {name} layer must be {width}×{height} RGBA uint8, got {layer.dtype} {layer.shape}")
    back = layers.back
    if back.dtype != np.uint8 or back.ndim != 3 or back.shape[2] != 3 or back.shape[0] % 2 or back.shape[1] % 2:
        raise ValueError(f"the back layer must be an even-sized RGB uint8 image, got {back.dtype} {back.shape}")
    if layers.rows.shape != (height,):
        raise ValueError(f"rows must give one item per frame row ({height}), got shape {layers.rows.shape}")
    left, top, right, bottom = layers.region
    if not (0 <= left < right <= width and 0 <= top < bottom <= height):
        raise ValueError(f"the back layer's region {layers.region} is not inside the {width}×{height} frame")


def matte_planes(value: str, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """An image parameter (a bundled matte's name or a file) as luma, at both plane sizes.

    The image is fitted to cover the frame (centred, cropped, never stretched), turned to
    greyscale, and reduced by averaging for the chroma plane. AssetError if it cannot be read.
    """
    from PIL import Image, ImageOps

    from ..raster.background import open_image

    with (
        open_image(image_path(value), (width, height)) as image,
        image.convert("L") as grey,
        ImageOps.fit(grey, (width, height), Image.Resampling.LANCZOS) as luma,
        luma.resize((width // 2, height // 2), Image.Resampling.BOX) as chroma,
    ):
        return np.asarray(luma, dtype=np.uint8).copy(), np.asarray(chroma, dtype=np.uint8).copy()


@dataclass(frozen=True)
class TransitionStep:
    """One transition frame, ready for either backend.

    Scalars are the same on both planes; a colour parameter becomes a normalised
    vec3 per plane, (Y, 0, 0) for luma and (Cb, Cr, 0) for chroma, so one shader
    source serves both planes. An image parameter stays its name or path on both:
    the compositor loads it at each plane's size (`matte_planes`), once.
    """

    name: str
    progress: float
    luma: PlaneParams
    chroma: PlaneParams


def plan_transition(frame: FrameSpec) -> TransitionStep | None:
    """None for a hold; otherwise the validated transition with per-plane parameters.

    Raises SpecError for an unknown transition or parameter (see resolve_params).
    """
    if frame.target is None:
        return None
    if frame.transition is None:
        raise SpecError("a frame with a target slide needs a transition name")
    user_file = user_transition_file(frame.transition)
    if user_file is not None:
        raise BackendUnavailableError(
            f"the transition file {user_file.name} is GLSL and needs the gl compositor; "
            "this machine has no OpenGL (EGL) context to run it"
        )
    params = resolve_params(frame.transition, frame.params)
    progress = float(frame.progress)
    if math.isnan(progress):
        raise SpecError(f"transition progress must be a number in 0..1, got {frame.progress!r}")
    progress = min(max(progress, 0.0), 1.0)
    colours = BUILTIN[frame.transition].colour_params
    luma: dict[str, object] = {}
    chroma: dict[str, object] = {}
    for key, value in params.items():
        if key in colours:
            y, cb, cr = (float(c) for c in rgb_to_yuv(np.asarray(value, dtype=np.float64)) / 255.0)
            luma[key], chroma[key] = (y, 0.0, 0.0), (cb, cr, 0.0)
        else:
            luma[key] = chroma[key] = value
    return TransitionStep(frame.transition, progress, luma, chroma)
