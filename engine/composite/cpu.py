"""The numpy compositor: the reference the GL compositor is tested against.

Slides are held as NV12 buffers (`engine.colour.rgb_to_nv12`, once per slide); a
transition frame runs the transition's numpy twin (`engine.composite.twins`, one per
shader, mirroring its arithmetic) on each plane, with scratch buffers made once per
compositor. A slide in motion is held as `LayerPlanes` (`engine.composite.planes`) and drawn in its frame's
state into a scratch frame (`engine.composite.layers`) before that. The frames drawn
last are kept by (slide, state), a few at a time: during most transitions a layered
slide does not move (its build has ended, or has not begun), and a push draws each of
its two slides three times a frame (engine.backdrop), so each is drawn once. Planes
that are one value throughout, or equal to a plane another slide holds (a backdrop's
silhouettes share their slide's coverage), are held once (`SharedPlanes`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

import numpy as np

from ..colour import nv12_planes, nv12_size, rgb_to_nv12
from ..errors import RenderError
from ..raster.layers import SlideLayers
from ..transitions import BUILTIN
from .base import (
    FrameSpec,
    SlideHandle,
    check_image,
    check_into,
    check_layers,
    check_nv12,
    check_size,
    matte_planes,
    plan_transition,
)
from .layers import LayerWork, compose_plane, plan_layers
from .planes import FrontPlanes, LayerPlanes, SharedPlanes, prepare_layers
from .twins import TWINS
from .workspace import Workspace

__all__ = ["TWINS", "CPUCompositor"]

# Frames of layered slides kept, drawn, for the next frames that show them in the same
# state: at most this many bytes (7 frames at 1080p), and never fewer than two frames.
_DRAWN_BYTES = 22 * 2**20


# --- the compositor ---------------------------------------------------------------------


class CPUCompositor:
    """Compositor on numpy alone: always available, and the reference for tests."""

    name = "cpu"
    kind = "cpu"
    renderer = "numpy"

    def __init__(self, width: int, height: int) -> None:
        check_size(width, height)
        self.width, self.height = width, height
        self._handles: dict[str, SlideHandle] = {}
        self._slides: list[np.ndarray | LayerPlanes | None] = []  # NV12 buffers or layers, by handle index
        self._frame = np.empty(nv12_size(width, height), dtype=np.uint8)
        self._work = Workspace(width, height)  # the twins' scratch, reused by every frame
        # Layered slides drawn in a state, least recently used first.
        self._drawn: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._drawn_max = max(2, _DRAWN_BYTES // nv12_size(width, height))
        self._layer_work: LayerWork | None = None
        self._mattes: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # image parameters, per plane
        self._planes = SharedPlanes()  # layer planes held once, however many slides hold them
        self._current: np.ndarray | None = None
        self._closed = False

    def upload(self, key: str, image: np.ndarray) -> SlideHandle:
        self._check_open()
        if key in self._handles:
            return self._handles[key]
        return self._add(key, rgb_to_nv12(check_image(image, self.width, self.height)))

    def upload_nv12(self, key: str, nv12: np.ndarray) -> SlideHandle:
        self._check_open()
        if key in self._handles:
            return self._handles[key]
        return self._add(key, check_nv12(nv12, self.width, self.height))  # held as it is: no conversion

    def upload_layers(self, key: str, layers) -> SlideHandle:
        self._check_open()
        if key in self._handles:
            return self._handles[key]
        check_layers(layers, self.width, self.height)
        return self._add(key, self._planes.share(prepare_layers(layers, self.width, self.height)))

    def prepare(self, picture: np.ndarray | SlideLayers | list[SlideLayers]) -> np.ndarray | LayerPlanes:
        """What `upload` or `upload_layers` would hold of `picture`, converted now: its
        NV12 buffer, or its `LayerPlanes`. It touches nothing of the compositor, so
        another thread may run it (engine.ahead) while this one draws frames;
        `upload_prepared` then takes the result. Layers handed over as a one-item list
        are let go as they are converted (`prepare_layers`)."""
        if isinstance(picture, list | SlideLayers):
            check_layers(picture[0] if isinstance(picture, list) else picture, self.width, self.height)
            return prepare_layers(picture, self.width, self.height)
        return rgb_to_nv12(check_image(picture, self.width, self.height))

    def upload_prepared(self, key: str, prepared: np.ndarray | LayerPlanes) -> SlideHandle:
        """Hold a slide `prepare` converted (on any thread), as `upload` or `upload_layers` would."""
        self._check_open()
        if key in self._handles:
            return self._handles[key]
        if isinstance(prepared, LayerPlanes):
            if (prepared.width, prepared.height) != (self.width, self.height):
                raise ValueError(
                    f"planes for {prepared.width}×{prepared.height}, the compositor renders {self.width}×{self.height}"
                )
            return self._add(key, self._planes.share(prepared))
        return self._add(key, check_nv12(prepared, self.width, self.height))

    def upload_silhouette(self, key: str, of: SlideHandle, back: np.ndarray) -> SlideHandle | None:
        """The silhouette of layered slide `of` over a plate (engine.backdrop), from the
        planes it has: its front layers with their colour black (Y 16, CbCr 128: what
        `front_planes` gives black ink) over `back`, the silhouette's back layer (H×W×3
        RGB, or converted already: a flat NV12 buffer). None where `of` is not held as
        layer planes."""
        self._check_open()
        if key in self._handles:
            return self._handles[key]
        slide = self._slide(of)
        if not isinstance(slide, LayerPlanes) or slide.back_size != (self.width, self.height):
            return None
        if back.ndim == 1:
            nv12 = check_nv12(back, self.width, self.height)
        else:
            nv12 = rgb_to_nv12(check_image(back, self.width, self.height))
        back_y, back_uv = self._silhouette_back(nv12_planes(nv12, self.width, self.height), slide)
        reveal = slide.reveal
        if reveal is not None:
            reveal = replace(reveal, image=_black(reveal.image), base=_black(reveal.base))
        static, items = (None if front is None else _black(front) for front in (slide.static, slide.items))
        silhouette = replace(slide, back_y=back_y, back_uv=back_uv, static=static, items=items, reveal=reveal)
        return self._add(key, silhouette)

    def _silhouette_back(self, planes: tuple[np.ndarray, np.ndarray], of: LayerPlanes) -> tuple[np.ndarray, ...]:
        """A silhouette's back planes, held once where they can be. On a slide where
        nothing stays still (all of it builds or reveals) the back over the background is
        the background, which is `of`'s own back, and the one over white is one value
        throughout: 3 MB at 1080p each, two of each in a push between two such slides."""
        if all(np.array_equal(plane, own) for plane, own in zip(planes, (of.back_y, of.back_uv), strict=True)):
            return of.back_y, of.back_uv
        return tuple(self._planes.plane(plane) for plane in planes)

    def _add(self, key: str, slide) -> SlideHandle:
        handle = SlideHandle(key, len(self._slides))
        self._slides.append(slide)
        self._handles[key] = handle
        return handle

    def render(self, frame: FrameSpec) -> None:
        self._check_open()
        source = self._picture(frame.source, frame.source_state)
        step = plan_transition(frame)
        if step is None or frame.target is None:  # (no target: plan_transition said "a hold")
            self._current = source  # a hold is the slide itself: nothing to compute
            return
        target = self._picture(frame.target, frame.target_state, source)
        twin = TWINS.get(step.name)
        if twin is None:  # a catalogue entry without its twin: our bug, not the deck's
            raise RenderError(f"transition {step.name!r} has no numpy implementation")
        progress = np.float32(step.progress)
        luma, chroma = dict(step.luma), dict(step.chroma)
        for key in BUILTIN[step.name].image_params:
            if step.luma[key] not in self._mattes:
                self._mattes[step.luma[key]] = matte_planes(step.luma[key], self.width, self.height)
            luma[key], chroma[key] = self._mattes[step.luma[key]]
        planes = zip(
            nv12_planes(self._frame, self.width, self.height),
            nv12_planes(source, self.width, self.height),
            nv12_planes(target, self.width, self.height),
            (luma, chroma),
        )
        for out, a, b, params in planes:
            twin(out, a, b, progress, params, self._work)
        self._current = self._frame

    def _room(self, handle: SlideHandle, source: np.ndarray | None) -> np.ndarray:
        """A buffer to draw `handle` into, not `source` (the other slide of this frame).

        A slide's motion only moves on, so a state it has left does not come back: its
        last drawn frame gives up its buffer first. A slide on screen then holds one
        frame, not `_drawn_max` of them (22 MB at 1080p), and only a push, drawing two
        slides and their four silhouettes, fills the cache. Otherwise the least
        recently drawn frame makes room.
        """
        old = next((k for k, b in self._drawn.items() if k[0] == handle and b is not source), None)
        if old is not None:
            return self._drawn.pop(old)
        if len(self._drawn) < self._drawn_max:
            return np.empty(nv12_size(self.width, self.height), dtype=np.uint8)
        old = next(k for k, b in self._drawn.items() if b is not source)
        return self._drawn.pop(old)

    def _picture(self, handle: SlideHandle, state, source: np.ndarray | None = None) -> np.ndarray:
        """The slide as an NV12 buffer: itself, or its layers drawn in `state` (kept a
        while), never into `source`, this frame's other slide."""
        slide = self._slide(handle)
        if not isinstance(slide, LayerPlanes):
            return slide
        if state is None:
            raise ValueError(f"{handle.key} is a slide in motion: its frames need a MotionState")
        key = (handle, state)
        drawn = self._drawn.get(key)
        if drawn is not None:
            self._drawn.move_to_end(key)
            return drawn
        out = self._room(handle, source)
        if self._layer_work is None:
            self._layer_work = LayerWork(self.width)
        work = self._layer_work
        y_out, uv_out = nv12_planes(out, self.width, self.height)
        luma, chroma = plan_layers(slide, state)
        static, items = slide.static, slide.items
        compose_plane(
            y_out,
            slide.back_y,
            None if static is None else (static.y, static.alpha, static.open_box[0], static.ink_rows[0]),
            None if items is None else (items.y, items.alpha, items.ink_rows[0]),
            slide.rows,
            luma,
            work,
            _reveal_args(slide, 0),
        )
        compose_plane(
            uv_out,
            slide.back_uv,
            None if static is None else (static.uv, static.alpha_uv, static.open_box[1], static.ink_rows[1]),
            None if items is None else (items.uv, items.alpha_uv, items.ink_rows[1]),
            slide.rows_uv,
            chroma,
            work,
            _reveal_args(slide, 1),
        )
        self._drawn[key] = out  # only once drawn whole
        return out

    def release(self, handle: SlideHandle) -> None:
        self._check_open()
        self._slide(handle)  # a handle from elsewhere is a bug worth hearing about
        del self._handles[handle.key]
        slide, self._slides[handle.index] = self._slides[handle.index], None  # indices of live handles stay valid
        for key in [key for key in self._drawn if key[0] == handle]:
            del self._drawn[key]
        if isinstance(slide, LayerPlanes) and self._layer_work is not None:
            # The slides after it may not move their back layer (a chart, a push): ~9 MB
            # less at 1080p meanwhile; the next that does grows it again on its first frame.
            self._layer_work.let_go()

    def read_nv12(self, into: np.ndarray) -> None:
        self._check_open()
        check_into(into, self.width, self.height)
        if self._current is None:
            raise RenderError("read_nv12 called before any frame was rendered")
        np.copyto(into, self._current)

    def close(self) -> None:
        if self._layer_work is not None:
            self._layer_work.close()
            self._layer_work = None
        self._slides.clear()
        self._handles.clear()
        self._drawn.clear()
        self._mattes.clear()
        self._current = None
        self._closed = True

    def _slide(self, handle: SlideHandle) -> np.ndarray | LayerPlanes:
        if not isinstance(handle, SlideHandle) or self._handles.get(handle.key) != handle:
            raise ValueError(f"{handle!r} was not uploaded to this compositor")
        slide = self._slides[handle.index]
        if slide is None:  # released (its handle is gone too, so this is only for the types)
            raise ValueError(f"{handle!r} was released")
        return slide

    def _check_open(self) -> None:
        if self._closed:
            raise RenderError("the compositor is closed")


def _reveal_args(slide: LayerPlanes, plane: int):
    """A layered slide's chart for `compose_plane`, on plane 0 (luma) or 1 (chroma), or None."""
    reveal = slide.reveal
    if reveal is None:
        return None
    image, base = reveal.image, reveal.base
    if plane == 0:
        return image.y, image.alpha, base.y, base.alpha, reveal.times, reveal.rows[0]
    return image.uv, image.alpha_uv, base.uv, base.alpha_uv, reveal.times_uv, reveal.rows[1]


def _black(front: FrontPlanes) -> FrontPlanes:
    """`front` with black ink: its coverage, and the one Y and CbCr value of black."""
    y = np.broadcast_to(np.uint8(16), front.y.shape)
    uv = np.broadcast_to(np.array([128, 128], np.uint8), front.uv.shape)
    return replace(front, y=y, uv=uv)
