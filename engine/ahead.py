"""Slides made ahead of the frame that first shows them, on a thread of their own.

Without it the render thread stops at each new slide to lay it out, paint it and
convert it (~100 ms at 1080p, ~300 for a chart), and the encoder, which holds only a
handful of frames (its lookahead), runs dry meanwhile: on two cores a render sat at
one busy core for those moments. `SlidesAhead` makes the slides the next segments
bring in while frames are drawn and encoded, and the render thread takes them when
their first frame comes.

It has its own `SlideRasterizer`, since a rasterizer is not thread-safe and the render
thread keeps using its own (backdrops, video slides); the two share their backgrounds
(kept under a lock) and slide keys. Font objects are shared too, which is safe:
Pillow renders text holding the GIL. On a compositor that can convert a slide
without touching its own state (`prepare`), the conversion is made here too, and
what waits for its first frame is the compositor's compact form (NV12 planes), not
the picture.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._host import return_free_memory
from .colour import rgb_to_nv12
from .raster import SlideLayers, SlideRasterizer
from .raster.layers import white_plate

__all__ = ["Made", "SlidesAhead"]


@dataclass(frozen=True)
class Made:
    """A slide made ahead: as the compositor's `prepare` left it, or the picture itself."""

    slide: Any  # prepared (for `upload_prepared`), or an H×W×3 image, or SlideLayers; a list of them for silhouettes
    prepared: bool
    backs: bool = False  # silhouettes: their back layers alone, as NV12 (`request_silhouettes`)


class SlidesAhead:
    """Rasterizes (and prepares) slides on one worker thread, in the order they are asked for.

    `request(key, index)` queues slide `index` under `key` unless it is queued already
    (`request_silhouettes` its silhouettes); `take(key)` waits for it, raising what
    making it raised, or returns None if it was never requested. `close()` drops what
    is queued and waits for the one in hand.
    """

    def __init__(
        self,
        beside: SlideRasterizer,
        prepare: Callable[[np.ndarray | SlideLayers | list[SlideLayers]], Any] | None = None,
    ) -> None:
        self.deck = beside.deck
        # A rasterizer of its own, sharing the backgrounds of the render thread's (`beside`).
        self.rasterizer = SlideRasterizer(
            beside.deck, beside.output, max_cached=1, cache_bytes=beside.cache_bytes, backgrounds_of=beside
        )
        self._prepare = prepare
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="reel-ahead")
        self._jobs: dict[str, Future[Made]] = {}

    def request(self, key: str, index: int) -> None:
        if key not in self._jobs:
            self._jobs[key] = self._pool.submit(self._make, index)

    def request_silhouettes(self, key: str, index: int, backs: bool) -> None:
        """Queue slide `index`'s silhouettes over its background and over white (engine.backdrop) under `key`.

        With `backs`, a slide that only builds or reveals gets its silhouettes' back
        layers alone, as NV12 (the compositor makes the rest from the slide's own
        planes); any other slide, or without `backs`, gets whole silhouettes, prepared.
        `take` gives a `Made` whose `slide` is the list of them, and `backs` says which.
        """
        if key not in self._jobs:
            self._jobs[key] = self._pool.submit(self._silhouettes, index, backs)

    def take(self, key: str) -> Made | None:
        job = self._jobs.pop(key, None)
        return None if job is None else job.result()

    @property
    def warnings(self) -> list[str]:
        return self.rasterizer.warnings

    def close(self) -> None:
        for job in self._jobs.values():
            job.cancel()
        self._jobs.clear()
        self._pool.shutdown(wait=True)

    def _silhouettes(self, index: int, backs: bool) -> Made:
        rasterizer = self.rasterizer
        plates = (rasterizer.background(index), white_plate(rasterizer.width, rasterizer.height))
        found = rasterizer.silhouette_backs(index, plates) if backs else None
        if found is not None:
            made = Made([rgb_to_nv12(back) for back in found], prepared=True, backs=True)
        else:
            pictures = list(rasterizer.silhouettes(index, plates))
            rasterizer.let_chart_go()
            if self._prepare is None:
                made = Made(pictures, prepared=False)
            else:
                prepared = []
                while pictures:  # (each picture goes once converted)
                    prepared.append(self._prepare(pictures.pop(0)))
                made = Made(prepared, prepared=True)
        del plates, found
        return_free_memory()
        return made

    def _make(self, index: int) -> Made:
        if self.deck.motion(index) is None:
            picture: np.ndarray | SlideLayers = self.rasterizer.raster(index)[1]
        else:
            picture = self.rasterizer.layers(index)
        # The chart a layered slide was drawn from is kept for its silhouettes, which
        # the render thread's own rasterizer makes: none are made from this one.
        self.rasterizer.let_chart_go()
        if self._prepare is None:
            made = Made(picture, prepared=False)
        elif isinstance(picture, SlideLayers):
            handed = [picture]  # (handed over: each layer goes once converted)
            del picture
            made = Made(self._prepare(handed), prepared=True)
        else:
            made = Made(self._prepare(picture), prepared=True)
            del picture
        return_free_memory()
        return made
