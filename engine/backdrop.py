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
from typing import Any, cast

import numpy as np

from .ahead import Made, SlidesAhead
from .colour import nv12_planes, nv12_size, rgb_to_nv12
from .composite import Compositor, FrameSpec, SlideHandle
from .raster import SlideLayers, SlideRasterizer
from .raster.layers import white_plate
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


class Backdrops:
    """The extra pictures a shared-background transition needs, uploaded on first use.

    `mode(segment)` says which way a transition runs; `through(spec)` rewrites a wipe's
    frame; `move(spec, into)` turns a drawn move frame into its content-only version.
    `release()` frees what the last transition uploaded (call it after each one).
    """

    def __init__(self, rasterizer: SlideRasterizer, compositor: Compositor, ahead: SlidesAhead | None = None) -> None:
        self.rasterizer, self.compositor = rasterizer, compositor
        self.ahead = ahead  # where a move's silhouettes are made before its first frame (`expect`)
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

    def expect(self, segment: Segment) -> None:
        """`segment` comes soon: if it is a move, have `ahead` make its slides' silhouettes."""
        if self.ahead is None or self.mode(segment) != "move":
            return
        assert isinstance(segment, Transition)
        backs = hasattr(self.compositor, "upload_silhouette")
        for index in (segment.from_slide, segment.to_slide):
            self.ahead.request_silhouettes(self._ahead_key(index), index, backs)

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
        silhouettes = (self._silhouettes(a, spec.source), self._silhouettes(b, spec.target))
        for plate, buffer in enumerate((over_bg, over_white)):
            self.compositor.render(replace(spec, source=silhouettes[0][plate], target=silhouettes[1][plate]))
            self.compositor.read_nv12(buffer)
        combine(into, over_bg, over_white, self._background_nv12(a), self.width, self.height)

    def release(self) -> None:
        """Let go of what the transition just ended needed: silhouettes, backgrounds, the
        scratch frames, and the chart kept to draw a chart slide's silhouettes."""
        for handle in self._handles.values():
            self.compositor.release(handle)
        self._handles.clear()
        self._backgrounds.clear()
        self._buffers = []
        self.rasterizer.let_chart_go()

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
        return white_plate(self.width, self.height)

    def _silhouettes(self, index: int, slide: SlideHandle | None) -> tuple[SlideHandle, SlideHandle]:
        """Slide `index`'s silhouettes over its background and over white, uploaded on
        first use; drawn together, so the slide is laid out and painted once for both.

        A slide that only builds or reveals has silhouettes that are its own layers in
        black over new back layers: a compositor that can (`upload_silhouette`) makes
        them from the planes of `slide`, its upload, and only the backs are painted.
        """
        keys = [f"{self.rasterizer.key(index)}-over-{name}" for name in ("bg", "white")]
        if all(key in self._handles for key in keys):
            return self._handles[keys[0]], self._handles[keys[1]]
        made = None if self.ahead is None else self.ahead.take(self._ahead_key(index))
        if made is not None and self._made_ahead(made, slide, keys):
            return self._handles[keys[0]], self._handles[keys[1]]
        if not self._from_planes(index, slide, keys):
            plates = (self._background(index), self._white(index))
            images = list(self.rasterizer.silhouettes(index, plates))
            del plates
            for key in keys:
                image = images.pop(0)  # each goes once uploaded: the compositor holds its own
                if key not in self._handles:
                    self._handles[key] = self._put(key, image)
                del image
        return self._handles[keys[0]], self._handles[keys[1]]

    def _from_planes(self, index: int, slide: SlideHandle | None, keys: list[str]) -> bool:
        """Upload slide `index`'s silhouettes under `keys` from the planes of `slide`, if
        the compositor can and the slide only builds or reveals; whether it was done."""
        if not hasattr(self.compositor, "upload_silhouette") or slide is None:
            return False
        backs = self.rasterizer.silhouette_backs(index, (self._background(index), self._white(index)))
        return backs is not None and self._derived(slide, keys, backs)

    def _made_ahead(self, made: Made, slide: SlideHandle | None, keys: list[str]) -> bool:
        """Upload silhouettes `ahead` made under `keys`; False where they are backs alone
        and the compositor cannot make the rest from `slide` (then they are painted)."""
        if made.backs:
            return self._derived(slide, keys, made.slide)
        for key, one in zip(keys, made.slide, strict=True):
            if key not in self._handles:
                put = cast(Any, self.compositor).upload_prepared if made.prepared else self._put
                self._handles[key] = put(key, one)
        return True

    def _derived(self, slide: SlideHandle | None, keys: list[str], backs: list[np.ndarray]) -> bool:
        """Upload under `keys` the silhouettes the compositor makes from the planes of
        `slide` over `backs` (`upload_silhouette`); whether it could."""
        derive = getattr(self.compositor, "upload_silhouette", None)
        if derive is None or slide is None:
            return False
        made = [derive(key, slide, back) for key, back in zip(keys, backs, strict=True)]
        if None in made:  # (`slide` is not held as planes there: both are None)
            return False
        self._handles.update(zip(keys, made, strict=True))
        return True

    def _ahead_key(self, index: int) -> str:
        return f"{self.rasterizer.key(index)}-silhouettes"

    def _upload(self, key: str, picture: Callable[[], np.ndarray | SlideLayers]) -> SlideHandle:
        if key not in self._handles:
            self._handles[key] = self._put(key, picture())
        return self._handles[key]

    def _put(self, key: str, image: np.ndarray | SlideLayers) -> SlideHandle:
        if isinstance(image, np.ndarray):
            return self.compositor.upload(key, image)
        return self.compositor.upload_layers(key, image)

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

    Where the silhouettes over white show all of the background (luma 235 or more:
    nothing covers it), the sum is ``frame − over_bg + background`` in integers, the
    same bytes the float blend gives there (its weight is exactly 1); the float blend
    runs only on the columns of each band of rows that some content covers.
    """
    planes = [nv12_planes(a, width, height) for a in (frame, over_bg, over_white, background)]
    (fy, fuv), (ey, euv), (gy, _), (by, buv) = planes
    for top in range(0, height, _BAND):
        rows = slice(top, min(top + _BAND, height))
        c = slice(top // 2, rows.stop // 2)
        covered = np.flatnonzero((gy[rows] < 235).any(axis=0))
        # The luma columns [lo, hi) that some content covers, and the chroma samples
        # [clo, chi) whose siting filter sees one of them (sample j sees 2j − 1 … 2j + 1).
        lo, hi = (int(covered[0]), int(covered[-1]) + 1) if covered.size else (0, 0)
        clo, chi = (lo // 2, min(width // 2, hi // 2 + 1)) if covered.size else (0, 0)
        for columns in (slice(0, lo), slice(hi, width)):
            _uncovered(fy[rows, columns], ey[rows, columns], by[rows, columns])
        for columns in (slice(0, clo), slice(chi, width // 2)):
            _uncovered(fuv[c, columns], euv[c, columns], buv[c, columns])
        if not covered.size:
            continue
        first = max(0, 2 * clo - 1)  # the luma column left of sample clo (none left of 0)
        # How much of the background each pixel shows, over the luma columns [lo, hi) and
        # those the chroma's siting filter reads, which hold them.
        shown = np.clip((gy[rows, first : 2 * chi].astype(np.float32) - 16) / 219, 0, 1)
        _add(fy[rows, lo:hi], ey[rows, lo:hi], by[rows, lo:hi], shown[:, lo - first : hi - first], 16)
        window = slice(clo, chi)
        _add(fuv[c, window], euv[c, window], buv[c, window], _sited(shown, clo == 0)[..., None], 128)


def _sited(plane: np.ndarray, at_edge: bool = True) -> np.ndarray:
    """A luma-sized plane at chroma size, filtered as engine.colour sites chroma.

    `at_edge`: the plane starts at the frame's left edge (the first sample repeats its
    own column as its left neighbour); otherwise it starts one column left of its
    first sample's, that neighbour.
    """
    rows = (plane[0::2] + plane[1::2]) * np.float32(0.5)
    if at_edge:
        left = np.concatenate([rows[:, :1], rows[:, 1:-1:2]], axis=1)
        return (left + 2 * rows[:, 0::2] + rows[:, 1::2]) * np.float32(0.25)
    n = rows.shape[1] // 2
    return (rows[:, 0 : 2 * n : 2] + 2 * rows[:, 1 : 2 * n : 2] + rows[:, 2 : 2 * n + 1 : 2]) * np.float32(0.25)


def _add(frame: np.ndarray, over_bg: np.ndarray, background: np.ndarray, shown: np.ndarray, offset: int) -> None:
    """frame ← rint(frame − over_bg + offset + (background − offset) × shown), in float32
    and in that order, clipped to bytes."""
    value = frame.astype(np.float32)
    value -= over_bg
    value += offset
    term = background.astype(np.float32)
    term -= offset
    term *= shown
    value += term
    np.rint(value, out=value)
    np.clip(value, 0, 255, out=value)
    frame[...] = value


def _uncovered(frame: np.ndarray, over_bg: np.ndarray, background: np.ndarray) -> None:
    """`_add` where all of the background shows (weight 1), in integers: the same bytes."""
    if not frame.size:
        return
    value = frame.astype(np.int16)
    value -= over_bg
    value += background
    np.clip(value, 0, 255, out=value)
    frame[...] = value
