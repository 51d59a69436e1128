"""Transitions between two slides on one background: the background stays, the content moves.

A transition blends whole frames, so a push carries each slide's background with its
text and leaves a seam between two copies of the same gradient, and a hard wipe joins
two titles into one word. When both slides stand on the same background, and it does
not move (`SlideRasterizer.backdrop`), presentation tools move the content alone, and
so does this module, in one of two ways.

**Moves** (pushes, covers, reveals, zooms, and the effects that resample the frame):
with the content's coverage α and its premultiplied colour C, a slide is
``F = C + BG·(1 − α)``, and what should show is ``T(C) + BG·(1 − T(α))``, where T is the
transition. Every transition in `MOVES` is affine in colour and keeps a flat frame flat,
so that is

    out = T(F) − T(S_bg) + BG · T(S_white)

where S_bg is the slide's *silhouette* over its background (content black, coverage
kept: ``BG·(1 − α)``) and S_white the same over white (``1 − α``). The compositor draws
the three transitions as it draws any (motion states included) and `combine` adds them
up on the NV12 planes. Where the content covers nothing, the frame is the background,
untouched; under opaque content it is exactly today's frame.

**Wipes** (`THROUGH_BACKGROUND`): a mask shows one slide or the other at each pixel, so
moving content would change nothing; instead the wipe runs twice as fast through the
bare background: the first half wipes the old content away, the second wipes the new
content on. Two slides' words never meet at the edge.

Other transitions (fades, dissolves, masks that do not sweep, transition files) and
slides whose backgrounds differ keep the whole-frame blend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .colour import nv12_planes, nv12_size, rgb_to_nv12
from .composite import Compositor, FrameSpec, SlideHandle
from .raster import SlideLayers, SlideRasterizer
from .timeline import Segment, Transition

__all__ = ["MOVES", "THROUGH_BACKGROUND", "Backdrops", "combine"]

#: Transitions that move or resample the frame: the content moves over the background.
MOVES = frozenset(
    {
        "slideleft",
        "slideright",
        "slideup",
        "slidedown",
        "coverleft",
        "coverright",
        "revealleft",
        "revealright",
        "zoomin",
        "zoomout",
        "pixelize",
        "blurfade",
        "ripple",
    }
)
#: Wipes that sweep an edge across the frame: they pass through the bare background.
THROUGH_BACKGROUND = frozenset({"wipeleft", "wiperight", "wipeup", "wipedown", "wipediagonal"})

_BAND = 64  # luma rows combined at once: float temporaries stay small at 4K

#: What a silhouette is drawn over, by slide: its background, or white.
Plate = Callable[[int], np.ndarray]


class Backdrops:
    """The extra pictures a shared-background transition needs, uploaded on first use.

    `mode(segment)` says which way a transition runs; `through(spec)` rewrites a wipe's
    frame; `move(spec, into)` turns a drawn move frame into its content-only version.
    `release()` frees what the last transition uploaded (call it after each one).
    """

    def __init__(self, rasterizer: SlideRasterizer, compositor: Compositor) -> None:
        self.rasterizer, self.compositor = rasterizer, compositor
        self.width, self.height = rasterizer.width, rasterizer.height
        self._handles: dict[str, SlideHandle] = {}
        self._keys: dict[int, str | None] = {}
        self._backgrounds: dict[int, np.ndarray] = {}
        self._buffers: list[np.ndarray] = []

    def mode(self, segment: Segment) -> str | None:
        """ "move", "through" or None (the whole-frame blend) for a Transition segment."""
        if not isinstance(segment, Transition):
            return None
        if segment.name not in MOVES and segment.name not in THROUGH_BACKGROUND:
            return None
        a, b = self._backdrop(segment.from_slide), self._backdrop(segment.to_slide)
        if a is None or a != b:
            return None
        return "move" if segment.name in MOVES else "through"

    def through(self, spec: FrameSpec, segment: Transition) -> FrameSpec:
        """The wipe's frame run through the bare background: out, then in, each at twice the speed."""
        background = self._upload(f"backdrop-{segment.from_slide}", lambda: self._background(segment.from_slide))
        if spec.progress < 0.5:
            return replace(spec, target=background, progress=2 * spec.progress, target_state=None)
        return replace(spec, source=background, progress=2 * spec.progress - 1, source_state=None)

    def move(self, spec: FrameSpec, segment: Transition, into: np.ndarray) -> None:
        """`into` holds T(F) of `spec`: make it the content moving over the fixed background."""
        a, b = segment.from_slide, segment.to_slide
        over_bg, over_white = self._scratch()
        plates: tuple[tuple[Plate, str, np.ndarray], ...] = (
            (self._background, "bg", over_bg),
            (self._white, "white", over_white),
        )
        for plate, name, buffer in plates:
            pair = replace(
                spec,
                source=self._silhouette(a, plate, name),
                target=self._silhouette(b, plate, name),
            )
            self.compositor.render(pair)
            self.compositor.read_nv12(buffer)
        combine(into, over_bg, over_white, self._background_nv12(a), self.width, self.height)

    def release(self) -> None:
        for handle in self._handles.values():
            self.compositor.release(handle)
        self._handles.clear()
        self._backgrounds.clear()

    # -- internals --

    def _backdrop(self, index: int) -> str | None:
        if index not in self._keys:
            self._keys[index] = self.rasterizer.backdrop(index)
        return self._keys[index]

    def _background(self, index: int) -> np.ndarray:
        return self.rasterizer.background(index)

    def _background_nv12(self, index: int) -> np.ndarray:
        if index not in self._backgrounds:
            self._backgrounds[index] = rgb_to_nv12(self._background(index))
        return self._backgrounds[index]

    def _white(self, index: int) -> np.ndarray:
        return np.full((self.height, self.width, 3), 255, dtype=np.uint8)

    def _silhouette(self, index: int, plate: Plate, name: str) -> SlideHandle:
        """Slide `index`'s silhouette over `plate(index)`, uploaded on first use."""
        key = f"{self.rasterizer.key(index)}-over-{name}"
        return self._upload(key, lambda: self.rasterizer.silhouette(index, plate(index)))

    def _upload(self, key: str, picture: Callable[[], np.ndarray | SlideLayers]) -> SlideHandle:
        if key not in self._handles:
            image = picture()
            if isinstance(image, np.ndarray):
                self._handles[key] = self.compositor.upload(key, image)
            else:
                self._handles[key] = self.compositor.upload_layers(key, image)
        return self._handles[key]

    def _scratch(self) -> list[np.ndarray]:
        if not self._buffers:
            self._buffers = [np.empty(nv12_size(self.width, self.height), dtype=np.uint8) for _ in range(2)]
        return self._buffers


def combine(
    frame: np.ndarray, over_bg: np.ndarray, over_white: np.ndarray, background: np.ndarray, width: int, height: int
) -> None:
    """``frame − over_bg + background × uncovered``, in place on NV12 `frame`.

    `over_white` is the transition of the silhouettes over white: its luma, 16…235 in
    video range, is how much of the background each pixel shows (1 − T(α)); chroma
    takes it through the same siting filter as the slides' chroma. Each plane keeps its own offset (16 for luma,
    128 for chroma), which the difference of two frames cancels and the background
    term restores.
    """
    planes = [nv12_planes(a, width, height) for a in (frame, over_bg, over_white, background)]
    (fy, fuv), (ey, euv), (gy, _), (by, buv) = planes
    for top in range(0, height, _BAND):
        rows = slice(top, min(top + _BAND, height))
        shown = np.clip((gy[rows].astype(np.float32) - 16) / 219, 0, 1)
        _add(fy[rows], ey[rows], by[rows], shown, 16)
        c = slice(top // 2, rows.stop // 2)
        _add(fuv[c], euv[c], buv[c], _sited(shown)[..., None], 128)


def _sited(plane: np.ndarray) -> np.ndarray:
    """A luma-sized plane at chroma size, filtered as engine.colour sites chroma."""
    rows = (plane[0::2] + plane[1::2]) * np.float32(0.5)
    left = np.concatenate([rows[:, :1], rows[:, 1:-1:2]], axis=1)
    return (left + 2 * rows[:, 0::2] + rows[:, 1::2]) * np.float32(0.25)


def _add(frame: np.ndarray, over_bg: np.ndarray, background: np.ndarray, shown: np.ndarray, offset: int) -> None:
    value = frame.astype(np.float32) - over_bg + offset + (background.astype(np.float32) - offset) * shown
    np.rint(value, out=value)
    np.clip(value, 0, 255, out=value)
    frame[...] = value
