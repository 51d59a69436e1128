"""Slides → H×W×3 uint8 sRGB images at one output's size, cached by content hash.

    rasterizer = SlideRasterizer(deck, output)
    key, image = rasterizer.raster(0)      # image.shape == (output.height, output.width, 3)

A slide's key hashes everything its pixels depend on: the slide's own fields (less
its duration and transition, which do not change a pixel), the theme, the frame size
and safe area, the identity (path, size, mtime) of the font files and of every image
file it draws, and the layout version. Slides with the same key are rasterized once
while they stay in the cache; the cached arrays are read-only, so the compositor can
keep them without copying. The cache holds a few images at most (least recently used
go first), and no more bytes than `cache_bytes` when given: at 4K one raster is 25 MB,
and memory must not grow with the deck.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pydantic import BaseModel

from ..errors import AssetError
from ..layout import LAYOUT_VERSION, ChartPlacement, SlideLayout, layout_slide
from ..motion import SlideMotion
from ..platforms import Output
from ..slides import VideoSlide, slide_background
from ..spec import ChartSlide, Deck, ImageSlide, Theme
from ..text.typeface import FontSet, resolve_fonts
from .background import render_background
from .charts import ChartReveal, chart_reveal
from .layers import SlideLayers, background_moves, silhouette_backs, silhouette_layers, silhouettes, slide_layers
from .logo import LogoStamp, logo_stamp, stamp_rgb, stamp_rgba
from .palette import Palette
from .slides import image_array, paint_onto, under_colour
from .spill import SpilledImage

__all__ = ["CacheInfo", "SlideRasterizer", "rasterize_slide"]

log = logging.getLogger(__name__)

#: Slide fields that change when a slide is shown, not what it looks like.
_TIMING_FIELDS = {"duration", "transition", "motion", "voiceover", "padding"}


@dataclass(frozen=True)
class CacheInfo:
    hits: int
    misses: int  # == slides actually rasterized
    entries: int


def _fields(model: BaseModel) -> dict[str, Any]:
    """A model's fields as JSON-able data, for a content hash."""
    if isinstance(model, ChartSlide) and model.figure is not None:
        # A Python figure (array, PIL image, matplotlib Figure) is not JSON: its identity is.
        return {**model.model_dump(mode="json", exclude={"figure"}), "figure": _figure_identity(model.figure)}
    return model.model_dump(mode="json")


def _figure_identity(figure: Any) -> str:
    if isinstance(figure, np.ndarray):
        return "array:" + hashlib.sha256(np.ascontiguousarray(figure).tobytes()).hexdigest()
    if hasattr(figure, "tobytes") and hasattr(figure, "mode"):  # a PIL image
        return f"image:{figure.mode}:{figure.size}:" + hashlib.sha256(figure.tobytes()).hexdigest()
    # A matplotlib Figure can change after it is given; its object identity is the best
    # key there is (a render draws it once per output anyway).
    return f"figure:{id(figure)}"


def _file_identity(file: Path | str | None, what: str) -> str:
    if file is None:
        return ""
    file = Path(file)
    try:
        st = file.stat()
    except OSError as exc:
        raise AssetError(f"{what} file not found: {file}", file) from exc
    return f"{file.resolve()}|{st.st_size}|{st.st_mtime_ns}"


class SlideRasterizer:
    """Rasterizes one deck's slides for one output, each distinct slide once.

    Not thread-safe for concurrent `raster` calls on the same index beyond the cache
    lookup itself: use one rasterizer per render thread (the pipeline does).
    """

    def __init__(
        self,
        deck: Deck,
        output: Output,
        max_cached: int = 4,
        cache_bytes: int | None = None,
        *,
        backgrounds_of: SlideRasterizer | None = None,
    ) -> None:
        self.deck, self.output = deck, output
        self.width = output.width
        self.height = output.height
        self.safe_area = output.safe_area
        self.safe_box = output.safe_area.box(self.width, self.height)
        self.theme = deck.theme
        self.fonts: FontSet = resolve_fonts(self.theme)
        self.palette = Palette.from_theme(self.theme)
        self._theme_json = json.dumps(_fields(self.theme), sort_keys=True)
        self.max_cached = max(1, max_cached)
        # Slide images are cached while they fit in `cache_bytes` too (None: no limit).
        # An image larger than the budget is drawn and returned, never kept: at 4K a
        # slide is 25 MB, and a compositor that has it uploaded holds its own copy.
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._keys: dict[int, str] = {}
        self._backgrounds: OrderedDict[str, np.ndarray] = OrderedDict()
        # Backgrounds over `cache_bytes` (a 4K one is 25 MB) wait in a file instead.
        self._spilled: OrderedDict[str, SpilledImage] = OrderedDict()
        self._lock = threading.Lock()
        if backgrounds_of is not None:
            # Another thread's rasterizer of the same deck and output (engine.ahead): its
            # backgrounds and keys serve both (backgrounds are only touched under its
            # lock; a key is one dict item, written whole).
            self._backgrounds, self._spilled, self._lock = (
                backgrounds_of._backgrounds,
                backgrounds_of._spilled,
                backgrounds_of._lock,
            )
            self._keys = backgrounds_of._keys
        self._logo: LogoStamp | None = None
        # The chart last drawn, with its slide's index: a push draws a chart slide's
        # layers and its silhouettes in one frame, both from this one drawing.
        self._chart: tuple[int, ChartReveal] | None = None
        self.hits = 0
        self.rasterized = 0
        self.warnings: list[str] = []  # what the layouts could not do, per slide

    # -- keys ---------------------------------------------------------------------

    def key(self, index: int) -> str:
        """The content hash of slide `index` at this output (computed once per index)."""
        if index in self._keys:
            return self._keys[index]
        slide = self.deck.slides[index]
        fields = {k: v for k, v in _fields(slide).items() if k not in _TIMING_FIELDS}
        h = hashlib.sha256()
        for part in (
            f"layout-v{LAYOUT_VERSION}",
            json.dumps(fields, sort_keys=True),
            self._theme_json,
            f"{self.width}x{self.height}",
            repr(self.safe_box),
            *(_file_identity(font, "font") for font in _theme_fonts(self.theme, self.fonts)),
            _file_identity(slide.file if isinstance(slide, ImageSlide) else None, "image"),
            _file_identity(slide.image if isinstance(slide, ChartSlide) else None, "chart image"),
            _file_identity(slide.file if isinstance(slide, VideoSlide) else None, "video clip"),
            _file_identity(slide_background(slide, self.theme).image, "background image"),
            _file_identity(None if self.theme.logo is None else self.theme.logo.file, "logo"),
            _layer_shape(self.deck.motion(index)),  # a slide in motion is uploaded as layers
        ):
            h.update(part.encode())
            h.update(b"\0")
        key = f"slide-{h.hexdigest()[:32]}"
        self._keys[index] = key
        return key

    # -- rendering ----------------------------------------------------------------

    def layout(self, index: int) -> SlideLayout:
        """Where everything on slide `index` goes at this output's size.

        Its warnings (text cut to fit, characters no font has) are collected in
        `warnings`, with the slide's number, once each.
        """
        layout = layout_slide(self.deck.slides[index], self.fonts, self.width, self.height, self.safe_box)
        self._warn(index, layout.warnings)
        return layout

    def _warn(self, index: int, warnings: Iterable[str]) -> None:
        for warning in warnings:
            message = f"slides[{index}]: {warning}"
            if message not in self.warnings:
                self.warnings.append(message)
                log.warning("%s", message)

    def background(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        """Slide `index`'s background alone (what lies under its content); read-only.

        `size` (width, height) draws it at another size than the output's (a drifting
        background is larger). Backgrounds are cached too: a deck's slides usually
        share the theme's one. One larger than `cache_bytes` is kept in a file
        (`SpilledImage`) and read back when asked for.
        """
        key, spilled = self._background_key(index, size)
        return spilled.array() if spilled is not None else self._kept_background(key, index, size)

    def _kept_background(self, key: str, index: int, size: tuple[int, int] | None) -> np.ndarray:
        """The background under `key` from memory, drawn (and kept, or spilled) first if need be."""
        with self._lock:
            cached = self._backgrounds.get(key)
            if cached is not None:
                self._backgrounds.move_to_end(key)
        if cached is None:
            bg = slide_background(self.deck.slides[index], self.theme)
            width, height = size or (self.width, self.height)
            cached = render_background(bg, width, height, self.theme.text_color)
            cached.flags.writeable = False
            with self._lock:
                if self.cache_bytes is not None and cached.nbytes > self.cache_bytes:
                    self._spilled[key] = SpilledImage(cached)
                    while len(self._spilled) > self.max_cached:
                        # (not closed: a thread may be reading it; it closes when let go)
                        self._spilled.popitem(last=False)
                else:
                    _store(self._backgrounds, key, cached, self.max_cached)
        return cached

    def _background_canvas(self, index: int) -> Image.Image:
        """Slide `index`'s background as a new Pillow RGB image to paint on: from its
        file when it was spilled, so the whole array is never in memory beside it."""
        key, spilled = self._background_key(index, None)
        if spilled is None:
            return Image.fromarray(self._kept_background(key, index, None), "RGB")
        return spilled.canvas()

    def _background_key(self, index: int, size: tuple[int, int] | None) -> tuple[str, SpilledImage | None]:
        bg = slide_background(self.deck.slides[index], self.theme)
        width, height = size or (self.width, self.height)
        key = json.dumps(
            [_fields(bg), self.theme.text_color, _file_identity(bg.image, "background image"), width, height]
        )
        with self._lock:
            spilled = self._spilled.get(key)
            if spilled is not None:
                self._spilled.move_to_end(key)
        return key, spilled

    def raster(self, index: int) -> tuple[str, np.ndarray]:
        """(key, H×W×3 uint8 image) of slide `index`; the image is shared and read-only."""
        self._forget_chart(index)
        key = self.key(index)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return key, cached
        notes: list[str] = []
        with self._background_canvas(index) as canvas:
            paint_onto(canvas, self.layout(index), self.palette, notes)
            image = image_array(canvas)
        self._warn(index, notes)
        logo = self.logo()
        if logo is not None:
            stamp_rgb(image, logo)
        image.flags.writeable = False
        with self._lock:
            if key not in self._cache:
                _store(self._cache, key, image, self.max_cached, self.cache_bytes)
                self.rasterized += 1
                log.debug("rasterized slide %d as %s (%dx%d)", index, key, self.width, self.height)
            return key, self._cache.get(key, image)

    def layers(self, index: int) -> SlideLayers:
        """Slide `index` as layers for its motion (engine.raster.layers); not cached.

        Raises ValueError for a slide without motion: `raster` draws those.
        """
        self._forget_chart(index)
        motion = self.deck.motion(index)
        if motion is None:
            raise ValueError(f"slide {index} has no motion; rasterize it with raster()")
        notes: list[str] = []
        layers = self._with_logo(slide_layers(self, index, motion, notes=notes))
        self._warn(index, notes)
        for array in (layers.back, layers.static, layers.items, layers.rows):
            if array is not None:
                array.flags.writeable = False
        return layers

    def backdrop(self, index: int) -> str | None:
        """What slide `index`'s background is, as a key, if it stays put while the slide
        shows; None if it moves (a drift, a camera over a transparent picture). Two slides
        with one backdrop share their background (engine.backdrop)."""
        if isinstance(self.deck.slides[index], VideoSlide):
            return None  # the clip covers it, or its frames differ every frame
        if background_moves(self, index, self.deck.motion(index)):
            return None
        bg = slide_background(self.deck.slides[index], self.theme)
        identity = _file_identity(bg.image, "background image")
        return json.dumps([_fields(bg), self.theme.text_color, identity], sort_keys=True)

    def silhouette(self, index: int, plate: np.ndarray) -> np.ndarray | SlideLayers:
        """Slide `index` with its content black (coverage kept) over `plate` instead of its
        background: an image, or layers for a slide in motion (as `raster`/`layers`)."""
        return self.silhouettes(index, [plate])[0]

    def silhouettes(self, index: int, plates: Sequence[np.ndarray]) -> Sequence[np.ndarray | SlideLayers]:
        """`silhouette` over each of `plates`, the slide laid out and painted once; what
        does not depend on the plate (build items, a chart, the logo's layer) is shared."""
        motion = self.deck.motion(index)
        if motion is not None:
            layers = silhouette_layers(self, index, motion, plates)
            shared = {id(one.static): one for one in layers}  # statics that do not depend on the plate
            stamped = {key: self._with_logo(one, black=True).static for key, one in shared.items()}
            return [replace(one, static=stamped[id(one.static)]) for one in layers]
        images = silhouettes(plates, self.layout(index), None, self.palette)  # a still background never moves
        logo = self.logo()
        if logo is not None:
            for image in images:
                stamp_rgb(image, logo, black=True)
        return images

    def silhouette_backs(self, index: int, plates: Sequence[np.ndarray]) -> list[np.ndarray] | None:
        """The back layers alone of `silhouettes(index, plates)`, for a layered slide that
        only builds or reveals (its other layers are its own, black); None otherwise."""
        motion = self.deck.motion(index)
        return None if motion is None else silhouette_backs(self, index, motion, plates)

    def chart(self, index: int, placement: ChartPlacement) -> ChartReveal:
        """The chart of slide `index` (at `placement`, from its layout) at the size of its
        box, over its background's colour there. The last one drawn is kept until
        another slide is rasterized or layered (its silhouettes, drawn after a push's
        slides are, do not count), or `let_chart_go` is called."""
        held = self._chart
        if held is not None and held[0] == index:
            return held[1]
        self._chart = None  # (never two held at once)
        revealed = chart_reveal(placement, self.palette, under_colour(self.background(index), placement.box))
        self._chart = (index, revealed)
        return revealed

    def let_chart_go(self) -> None:
        """Drop the chart kept for the silhouettes of its slide (14 MB at 1080p), once they are made."""
        self._chart = None

    def _forget_chart(self, index: int) -> None:
        if self._chart is not None and self._chart[0] != index:
            self._chart = None

    def logo(self) -> LogoStamp | None:
        """The theme's logo fitted and placed for this output (drawn once), or None."""
        if self.theme.logo is None:
            return None
        if self._logo is None:
            self._logo = logo_stamp(self.theme.logo, self.width, self.height, self.safe_box)
        return self._logo

    def _with_logo(self, layers: SlideLayers, black: bool = False) -> SlideLayers:
        """`layers` with the logo in the static layer (made if there was none), so no
        camera, drift or build moves it."""
        logo = self.logo()
        if logo is None:
            return layers
        static = layers.static
        static = np.zeros((self.height, self.width, 4), dtype=np.uint8) if static is None else static.copy()
        stamp_rgba(static, logo, black)
        return replace(layers, static=static)

    def cache_info(self) -> CacheInfo:
        return CacheInfo(self.hits, self.rasterized, len(self._cache))

    def clear(self) -> None:
        """Drop every cached image (keys stay valid)."""
        with self._lock:
            self._cache.clear()
            self._backgrounds.clear()
            self._spilled.clear()


def _theme_fonts(theme: Theme, fonts: FontSet) -> list[Path]:
    """Every font file a slide's pixels may come from: the set in use and the theme's others."""
    named = [theme.font_italic, theme.font_bold_italic, *theme.fallback_fonts]
    return [fonts.regular, fonts.bold, *(font for font in named if font is not None)]


def _layer_shape(motion: SlideMotion | None) -> str:
    """What of a slide's motion its layers depend on (not timings, easings or directions)."""
    if motion is None:
        return "still"
    kb, drift = motion.ken_burns, motion.drift
    return repr(
        (
            None if kb is None else max(kb.zoom_from, kb.zoom_to),
            None if drift is None else drift.amount,
            motion.build is not None,
        )
    )


def _store(
    cache: OrderedDict[str, np.ndarray], key: str, value: np.ndarray, limit: int, budget: int | None = None
) -> None:
    """Keep `value` under `key`, dropping the least recently used past `limit` entries
    or `budget` bytes (`value` itself too, if it alone is over the budget)."""
    cache[key] = value
    while len(cache) > limit or (budget is not None and cache and sum(a.nbytes for a in cache.values()) > budget):
        cache.popitem(last=False)


def rasterize_slide(deck: Deck, index: int, output: Output) -> np.ndarray:
    """Slide `index` of `deck` at `output`'s size: an H×W×3 uint8 sRGB image."""
    return SlideRasterizer(deck, output).raster(index)[1]
