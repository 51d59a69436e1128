"""A slide in motion as layers the compositor moves without rasterizing again.

    layers = slide_layers(rasterizer, index, motion)

- `back`: opaque, seen through the motion's window. For Ken Burns, the picture (drawn
  larger than its rect, so a zoom stays sharp; a "fill" picture's rect is the whole
  frame, so the camera moves edge to edge), or, for a picture with transparent parts,
  the whole scene behind the text; for drift, the background drawn larger than the
  frame; otherwise the slide's static part, at rest.
- `static`: straight-alpha RGBA over the back layer that never moves: the
  background with a hole where a Ken Burns picture shows, the text over a drift.
- `items`: straight-alpha RGBA of the build items, and `rows`, the item (1…n) each
  frame row belongs to (0: none). Items own disjoint bands of rows, so a frame can
  shift an item's rows and fade it without touching the others.
- `reveal`: a chart that appears (engine.raster.charts): its finished image, its
  base, and each pixel's reveal time, drawn between the static layer and the items.

Every layer is at the output's size except `back`, whose size is its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
from PIL import Image, ImageDraw

from ..layout import ChartPlacement, ImagePlacement, Shape, SlideLayout
from ..motion import KenBurns, SlideMotion, drift_back_size
from ..spec import Deck
from ..text.block import TextBlock
from .background import open_image
from .charts import ChartReveal, chart_reveal
from .palette import Palette
from .slides import fitted_picture, image_array, paint_layout, paint_text, rounded_mask

__all__ = [
    "REVEAL_STEPS",
    "LayerSource",
    "RevealLayer",
    "SlideLayers",
    "background_moves",
    "build_groups",
    "placed",
    "silhouette",
    "silhouette_backs",
    "silhouette_layers",
    "silhouettes",
    "slide_layers",
    "white_plate",
]

#: Reveal times and clocks are compared as integers 0..REVEAL_STEPS, the same in
#: numpy and in the shader (an R16UI texture), so no float rounding can differ.
REVEAL_STEPS = 65535

Box = tuple[int, int, int, int]
_Item = TypeVar("_Item", ImagePlacement, ChartPlacement)

# The most a Ken Burns picture is drawn larger than its rect: past 2× a zoom is soft
# anyway, and a 4K picture at 2× is already 100 MB of RGB while it is prepared.
_MAX_PICTURE_SCALE = 2.0


class LayerSource(Protocol):
    """What layers are drawn from: one deck's slides at one output (`SlideRasterizer`)."""

    deck: Deck
    width: int
    height: int
    palette: Palette

    def layout(self, index: int) -> SlideLayout: ...

    def background(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray: ...

    def chart(self, index: int, placement: ChartPlacement) -> ChartReveal: ...


@dataclass(frozen=True)
class SlideLayers:
    back: np.ndarray  # Hb×Wb×3 uint8, even sizes
    region: Box  # the frame box the back layer fills
    static: np.ndarray | None  # H×W×4 uint8 straight alpha, or None
    items: np.ndarray | None  # H×W×4 uint8 straight alpha, or None when nothing builds
    rows: np.ndarray  # H uint8: build item of each row, 0 = none
    count: int  # build items
    reveal: RevealLayer | None = None

    @property
    def nbytes(self) -> int:
        arrays = [self.back, self.static, self.items, self.rows]
        if self.reveal is not None:
            arrays += [self.reveal.image, self.reveal.base, self.reveal.times]
        return sum(a.nbytes for a in arrays if a is not None)


@dataclass(frozen=True)
class RevealLayer:
    """A chart that appears: `image` replaces `base` where `times` ≤ the clock.

    `image` and `base` cover the chart's box alone, at `at` (top, left) in the frame, and
    are transparent elsewhere (two frame-sized RGBA layers were 17 MB at 1080p for a
    chart that fills half of it); `frame_rgba` widens one to the frame. `times` is
    frame-sized.
    """

    image: np.ndarray  # h×w×4 uint8 straight alpha, at `at`
    base: np.ndarray  # h×w×4 uint8 straight alpha, at `at`
    times: np.ndarray  # H×W uint16: reveal time × 65535 (0 outside the chart)
    fades: bool = False
    at: tuple[int, int] = (0, 0)

    def frame_rgba(self, which: str) -> np.ndarray:
        """`image` or `base` (`which`) as a frame-sized H×W×4 layer, transparent around the box."""
        return placed(self.image if which == "image" else self.base, self.at, self.times.shape)


def placed(part: np.ndarray, at: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """`part` at `at` (top, left) in a frame of `size` (height, width), zero elsewhere,
    contiguous (`part` itself where it is the whole frame already)."""
    if part.shape[:2] == size:
        return np.ascontiguousarray(part)
    whole = np.zeros(size + part.shape[2:], dtype=part.dtype)
    top, left = at
    whole[top : top + part.shape[0], left : left + part.shape[1]] = part
    return whole


def build_groups(layout: SlideLayout, kind: str) -> list[list[int]]:
    """Indices of `layout.items` that enter together, one list per build item, in order.

    Each text block is an item (on a bullets slide, each bullet; its heading stays), a
    shape joins the item whose rows it overlaps (a bullet's dot, a caption's band), and
    items whose rows overlap are merged, so that every row belongs to one item at most.
    A shape between items (the accent rule under a title, or over the bullets) joins
    the last item starting above it, else the first: it enters with the text it
    decorates, and that item's band grows to cover it.
    """
    blocks = [
        i
        for i, item in enumerate(layout.items)
        if isinstance(item, TextBlock) and not (kind == "bullets" and item.role == "title")
    ]
    groups = [[i] for i in blocks]
    for i, item in enumerate(layout.items):
        if isinstance(item, Shape) and groups:
            rows = _rows_of(layout, [i])
            home = next((g for g in groups if _rows_overlap(rows, _rows_of(layout, g[:1]))), None)
            if home is None:
                above = [g for g in groups if _rows_of(layout, g[:1])[0] < rows[0]]
                home = max(above, key=lambda g: _rows_of(layout, g[:1])[0]) if above else groups[0]
            home.append(i)
    merged: list[list[int]] = []
    for group in groups:
        if merged and _rows_overlap(_rows_of(layout, merged[-1]), _rows_of(layout, group)):
            merged[-1].extend(group)
        else:
            merged.append(group)
    return [sorted(g) for g in merged]


def slide_layers(
    rasterizer: LayerSource,
    index: int,
    motion: SlideMotion,
    plate: np.ndarray | None = None,
    notes: list[str] | None = None,
) -> SlideLayers:
    """Slide `index` of the rasterizer's deck as layers for `motion`; what painting gave
    up (a chart's words cut to fit) is added to `notes`.

    With `plate` (H×W×3), its silhouette instead: every content pixel black, with the
    content's coverage, over `plate` where the background was (engine.backdrop). Only
    for a slide whose background stays put (`background_moves` is False).
    """
    return _slide_layers(rasterizer, index, motion, None if plate is None else [plate], notes)[0]


def silhouette_layers(
    rasterizer: LayerSource, index: int, motion: SlideMotion, plates: Sequence[np.ndarray]
) -> list[SlideLayers]:
    """Slide `index`'s silhouette layers over each of `plates`, as `slide_layers` draws
    them one plate at a time, but with the content laid out and painted once: the
    layers that do not depend on the plate (build items, a chart's reveal) are the same
    arrays in every result."""
    return _slide_layers(rasterizer, index, motion, plates)


def _slide_layers(
    rasterizer: LayerSource,
    index: int,
    motion: SlideMotion,
    plates: Sequence[np.ndarray] | None,
    notes: list[str] | None = None,
) -> list[SlideLayers]:
    """The layers of `slide_layers`: one set, or, with `plates`, a silhouette per plate."""
    layout = rasterizer.layout(index)
    slide = rasterizer.deck.slides[index]
    width, height = rasterizer.width, rasterizer.height
    palette = rasterizer.palette
    groups = build_groups(layout, slide.kind) if motion.build is not None else []
    building = {i for g in groups for i in g}
    kb = motion.ken_burns
    # The picture a Ken Burns camera moves over, and the chart a reveal uncovers.
    found_picture = _first(layout, ImagePlacement) if kb is not None else None
    found_chart = _first(layout, ChartPlacement) if motion.reveal is not None else None
    still = _still(layout, building, found_picture, found_chart)
    picture = None if found_picture is None else found_picture[1]
    chart = None if found_chart is None else found_chart[1]

    black = plates is not None
    backgrounds = [rasterizer.background(index)] if plates is None else list(plates)
    region: Box = (0, 0, width, height)
    statics: list[np.ndarray | None] = [None] * len(backgrounds)
    if kb is not None and picture is not None and _opaque(picture):
        # The camera moves inside the picture's frame, which stays put.
        placement = picture
        if black:  # the picture is content: all of it black, and no need to draw it
            back = np.zeros((*reversed(_picture_size(placement, _picture_scale(kb))), 3), dtype=np.uint8)
        else:
            back = _picture_back(placement, _picture_scale(kb))
        backs = [back] * len(backgrounds)
        region = placement.rect
        fill = region == (0, 0, width, height) and placement.radius == 0
        if fill:  # a "fill" picture hides the background entirely: the plate never shows
            statics = [_painted(width, height, layout, still, palette, black, notes)] * len(backgrounds)
        else:
            statics = []
            for background in backgrounds:
                static = _with_hole(background, placement)
                _paint_rgba(static, layout, still, palette, black, notes)
                statics.append(static)
    elif black and (picture is not None or motion.drift is not None):
        raise ValueError(f"slide {index}'s background moves with its motion; it has no silhouette")
    elif kb is not None and picture is not None:
        # A picture with transparent parts shows the background through them, so the
        # camera moves over the whole scene: background and picture, text staying.
        scale = _picture_scale(kb)
        grown = (_even(width * scale), _even(height * scale))
        scene = _scaled_layout(layout, [picture], grown[0] / width, grown[1] / height)
        backs = [paint_layout(rasterizer.background(index, size=grown), scene, palette, notes)]
        statics = [_painted(width, height, layout, still, palette, notes=notes)]
    elif motion.drift is not None:
        grown = drift_back_size(motion.drift.amount, width, height)
        backs = [rasterizer.background(index, size=grown)]
        statics = [_painted(width, height, layout, still, palette, notes=notes)]
    elif black:
        backs = silhouettes(backgrounds, layout, still, palette)
    else:
        backs = [paint_layout(backgrounds[0], _subset(layout, still), palette, notes)]

    items = None
    rows = np.zeros(height, dtype=np.uint8)
    if groups:
        items = _painted(width, height, layout, sorted(building), palette, black, notes)
        bands = [_rows_of(layout, g) for g in groups]
        for number, (top, _) in enumerate(bands, start=1):
            # A band runs down to the next item's band (the last to the frame's foot), so
            # an item rising from below is not cut off by its own band.
            below = bands[number][0] if number < len(bands) else height
            rows[max(0, top) : min(height, below)] = number
    statics = [None if static is None or not static[..., 3].any() else static for static in statics]
    reveal = None
    if chart is not None:
        reveal = _reveal_layer(rasterizer.chart(index, chart), chart.box, width, height, notes)
        if black:  # (the pictures are the chart's box alone, and copies)
            reveal.image[..., :3] = 0
            reveal.base[..., :3] = 0
    return [
        SlideLayers(back, region, static, items, rows, len(groups), reveal)
        for back, static in zip(backs, statics, strict=True)
    ]


def _still(layout: SlideLayout, building: set[int], *moving: tuple[int, object] | None) -> list[int]:
    """The items of `layout` that neither build nor move: the back layer's."""
    moved = {found[0] for found in moving if found is not None}
    return [i for i in range(len(layout.items)) if i not in building and i not in moved]


def silhouette_backs(
    rasterizer: LayerSource, index: int, motion: SlideMotion, plates: Sequence[np.ndarray]
) -> list[np.ndarray] | None:
    """The back layers of slide `index`'s silhouettes over `plates`, alone, for a slide
    that only builds or reveals (no camera, no drift): its other layers are its own
    with their colour black (`silhouette_layers` gives the same). None for any other."""
    if motion.ken_burns is not None or motion.drift is not None:
        return None
    layout = rasterizer.layout(index)
    groups = build_groups(layout, rasterizer.deck.slides[index].kind) if motion.build is not None else []
    chart = _first(layout, ChartPlacement) if motion.reveal is not None else None
    still = _still(layout, {i for g in groups for i in g}, chart)
    return silhouettes(plates, layout, still, rasterizer.palette)


def _first(layout: SlideLayout, kind: type[_Item]) -> tuple[int, _Item] | None:
    """The first item of `layout` of type `kind`, and its index."""
    return next(((i, item) for i, item in enumerate(layout.items) if isinstance(item, kind)), None)


def background_moves(rasterizer: LayerSource, index: int, motion: SlideMotion | None) -> bool:
    """Whether slide `index`'s background moves with its motion: a drift, or a Ken Burns
    camera over a picture with transparent parts (it moves over the whole scene)."""
    if motion is None:
        return False
    if motion.drift is not None:
        return True
    if motion.ken_burns is None:
        return False
    layout = rasterizer.layout(index)
    picture = next((item for item in layout.items if isinstance(item, ImagePlacement)), None)
    return picture is not None and not _opaque(picture)


def silhouette(plate: np.ndarray, layout: SlideLayout, indices: list[int] | None, palette: Palette) -> np.ndarray:
    """`plate` (H×W×3) with `layout.items[indices]` (all if None) painted over it in black.

    Black keeps each item's coverage, so ``plate × (1 − coverage)`` is what a slide over
    `plate` shows of it: engine.backdrop moves content over a background that stays.
    """
    return silhouettes([plate], layout, indices, palette)[0]


def white_plate(width: int, height: int) -> np.ndarray:
    """The plate of the silhouettes over white, read only (each is painted on a copy):
    one texel broadcast, not 6 MB at 1080p."""
    return np.broadcast_to(np.full(3, 255, dtype=np.uint8), (height, width, 3))


def silhouettes(
    plates: Sequence[np.ndarray], layout: SlideLayout, indices: list[int] | None, palette: Palette
) -> list[np.ndarray]:
    """`silhouette` over each of `plates` (all of one size), the content painted once.

    Only the content's inked box is multiplied: outside it the coverage is 0, and
    ``(p × 255 + 127) // 255`` is `p` itself.
    """
    height, width = plates[0].shape[:2]
    indices = list(range(len(layout.items))) if indices is None else indices
    painted = _painted_box(width, height, layout, indices, palette)
    out = [plate.copy() for plate in plates]
    if painted is not None:
        content, (left, top, right, bottom) = painted
        keep = 255 - content[..., 3:4].astype(np.uint16)
        del content
        for image, plate in zip(out, plates, strict=True):
            under = plate[top:bottom, left:right].astype(np.uint16)
            under *= keep
            under += 127
            under //= 255
            image[top:bottom, left:right] = under
    return out


# --- painting on transparent canvases ------------------------------------------------


def _transparent(width: int, height: int) -> np.ndarray:
    return np.zeros((height, width, 4), dtype=np.uint8)


def _painted(
    width: int,
    height: int,
    layout: SlideLayout,
    indices: list[int],
    palette: Palette,
    black: bool = False,
    notes: list[str] | None = None,
) -> np.ndarray:
    """`layout.items[indices]` over a transparent H×W×4 canvas, as `_paint_rgba` draws
    them; only their inked box is written (the rest of the canvas stays untouched zeros)."""
    canvas = _transparent(width, height)
    painted = _painted_box(width, height, layout, indices, palette, black, notes)
    if painted is not None:
        content, (left, top, right, bottom) = painted
        canvas[top:bottom, left:right] = content
    return canvas


def _painted_box(
    width: int,
    height: int,
    layout: SlideLayout,
    indices: list[int],
    palette: Palette,
    black: bool = False,
    notes: list[str] | None = None,
) -> tuple[np.ndarray, Box] | None:
    """(straight RGBA, frame box) of `layout.items[indices]` painted over transparency,
    cropped to the box their layers cover in the frame; None if they cover none of it.

    The same "over" composites as on a whole transparent frame, on a canvas no larger
    than the content: the pixels outside stay transparent either way.
    """
    layers: list[tuple[Image.Image, tuple[int, int]]] = []
    try:
        # (extend keeps what it took before a later item fails: those are closed below)
        layers.extend(_item_layers(layout, indices, palette, width, height, black, notes))
        if not layers:
            return None
        left = min(x for _, (x, _) in layers)
        top = min(y for _, (_, y) in layers)
        right = min(width, max(x + layer.width for layer, (x, _) in layers))
        bottom = min(height, max(y + layer.height for layer, (_, y) in layers))
        if right <= left or bottom <= top:
            return None
        with Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0)) as image:
            for layer, (x, y) in layers:
                image.alpha_composite(layer, dest=(x - left, y - top))
            return image_array(image), (left, top, right, bottom)
    finally:
        for layer, _ in layers:
            layer.close()


def _item_layers(
    layout: SlideLayout,
    indices: list[int],
    palette: Palette,
    width: int,
    height: int,
    black: bool = False,
    notes: list[str] | None = None,
) -> Iterator[tuple[Image.Image, tuple[int, int]]]:
    """(RGBA layer, top-left) of each of `layout.items[indices]` that shows, in order;
    with `black`, its colour black and its coverage kept (a silhouette). The caller closes them."""
    for i in indices:
        layer, origin = _item_layer(layout.items[i], palette, width, height, notes)
        if layer is not None:
            yield (_blackened(layer) if black else layer), origin


def _blackened(layer: Image.Image) -> Image.Image:
    """`layer` as RGBA with its colour black and its coverage kept (closes `layer`)."""
    with layer:
        rgba = np.array(layer.convert("RGBA"), dtype=np.uint8)
    rgba[..., :3] = 0
    return Image.fromarray(rgba, "RGBA")


def _paint_rgba(
    canvas: np.ndarray,
    layout: SlideLayout,
    indices: list[int],
    palette: Palette,
    black: bool = False,
    notes: list[str] | None = None,
) -> None:
    """Draw `layout.items[indices]` over the straight-alpha RGBA `canvas`, in place.

    Each item is drawn on its own transparent layer and composited "over", so a
    caption over its band, or text over a picture, keeps exact coverage. `black`
    paints every item black, with its coverage (a silhouette).
    """
    if not indices:
        return
    height, width = canvas.shape[:2]
    with Image.fromarray(canvas, "RGBA") as image:
        for layer, origin in _item_layers(layout, indices, palette, width, height, black, notes):
            with layer:
                image.alpha_composite(layer, dest=origin)
        image_array(image, into=canvas)


def _item_layer(item, palette: Palette, width: int, height: int, notes: list[str] | None = None):
    """(RGBA image, top-left) of one layout item on transparency, or (None, None)."""
    if isinstance(item, TextBlock):
        layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        paint_text(ImageDraw.Draw(layer), item, palette[item.colour])
        # Only the inked box goes on: the rest is transparent, which "over" leaves as it
        # was, and a frame-sized layer costs ~8 MB of copies per block.
        box = layer.getbbox(alpha_only=True)
        if box is None:
            layer.close()
            return None, None
        with layer:
            return layer.crop(box), box[:2]
    if isinstance(item, ChartPlacement):  # a chart that does not animate: as it ends
        reveal = chart_reveal(item, palette)
        if reveal.note and notes is not None:
            notes.append(reveal.note)
        return Image.fromarray(reveal.image, "RGBA"), item.box[:2]
    left, top, right, bottom = item.box if isinstance(item, Shape) else item.rect
    left, top = max(0, left), max(0, top)
    if right <= left or bottom <= top:
        return None, None
    if isinstance(item, Shape):
        rgba = palette[item.colour]
        with rounded_mask(right - left, bottom - top, item.radius, item.kind == "ellipse") as mask:
            alpha = np.asarray(mask, dtype=np.uint16) * rgba[3] // 255
        layer = Image.new("RGBA", mask.size, (*rgba[:3], 0))
        layer.putalpha(Image.fromarray(alpha.astype(np.uint8), "L"))
        return layer, (left, top)
    return fitted_picture(item), (left, top)


def _reveal_layer(
    revealed: ChartReveal, box: Box, width: int, height: int, notes: list[str] | None = None
) -> RevealLayer:
    """A chart drawn at the size of its `box` as a RevealLayer: its pictures (copies: the
    chart drawn may be kept for silhouettes) at the box, its times frame-sized."""
    if revealed.note and notes is not None:
        notes.append(revealed.note)
    left, top, right, bottom = box
    times = np.zeros((height, width), dtype=np.uint16)
    times[top:bottom, left:right] = np.round(revealed.times * REVEAL_STEPS).astype(np.uint16)
    image, base = (np.array(picture, dtype=np.uint8, order="C") for picture in (revealed.image, revealed.base))
    return RevealLayer(image, base, times, revealed.fades, at=(top, left))


def _with_hole(background: np.ndarray, placement: ImagePlacement) -> np.ndarray:
    """The background as RGBA, transparent where the (rounded) picture rect lies."""
    height, width = background.shape[:2]
    out = np.empty((height, width, 4), dtype=np.uint8)
    out[..., :3] = background
    out[..., 3] = 255
    left, top, right, bottom = placement.rect
    with rounded_mask(right - left, bottom - top, placement.radius) as mask:
        out[top:bottom, left:right, 3] = 255 - np.asarray(mask)
    return out


def _picture_scale(ken_burns: KenBurns) -> float:
    # Drawn as large as the closest zoom shows it, so the zoom never magnifies texels.
    return min(max(ken_burns.zoom_from, ken_burns.zoom_to), _MAX_PICTURE_SCALE)


def _opaque(placement: ImagePlacement) -> bool:
    with open_image(placement.file, (64, 64)) as image, image.getchannel("A") as alpha:
        return alpha.getextrema()[0] == 255


def _picture_back(placement: ImagePlacement, scale: float) -> np.ndarray:
    """The (opaque) picture fitted straight to `scale` × its rect: one resample, not two.

    Its corners stay square: the static layer's hole rounds them.
    """
    size = _picture_size(placement, scale)
    rect = (0, 0, size[0], size[1])
    with fitted_picture(ImagePlacement(placement.file, placement.fit, rect, rect, 0)) as picture:
        return np.asarray(picture.convert("RGB"), dtype=np.uint8).copy()


def _picture_size(placement: ImagePlacement, scale: float) -> tuple[int, int]:
    """(width, height) of the Ken Burns back layer: the picture's rect × `scale`, even."""
    left, top, right, bottom = placement.rect
    return _even((right - left) * scale), _even((bottom - top) * scale)


def _subset(layout: SlideLayout, indices: list[int]) -> SlideLayout:
    return SlideLayout(
        layout.width, layout.height, layout.safe_box, layout.content_box, tuple(layout.items[i] for i in indices)
    )


def _scaled_layout(layout: SlideLayout, pictures: list[ImagePlacement], sx: float, sy: float) -> SlideLayout:
    """`pictures` of `layout`, placed as on a frame `sx`×`sy` times larger."""
    items = []
    for item in pictures:
        box = _scaled(item.box, sx, sy)
        rect = _scaled(item.rect, sx, sy)
        items.append(ImagePlacement(item.file, item.fit, box, rect, round(item.radius * min(sx, sy))))
    return SlideLayout(
        round(layout.width * sx), round(layout.height * sy), layout.safe_box, layout.content_box, tuple(items)
    )


def _scaled(box: Box, sx: float, sy: float) -> Box:
    left, top, right, bottom = box
    return round(left * sx), round(top * sy), round(right * sx), round(bottom * sy)


# --- rows ----------------------------------------------------------------------------


def _box_of(item) -> Box:
    return item.rect if isinstance(item, ImagePlacement) else item.box


def _rows_of(layout: SlideLayout, group: list[int]) -> tuple[int, int]:
    boxes = [_box_of(layout.items[i]) for i in group]
    return min(b[1] for b in boxes), max(b[3] for b in boxes)


def _rows_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two [top, bottom) row spans share a row."""
    return a[0] < b[1] and b[0] < a[1]


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))
