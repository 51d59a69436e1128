"""Motion inside a slide: Ken Burns, staggered builds and background drift.

A slide that moves is uploaded as layers (`engine.raster.layers`) instead of one
picture: a *back* layer seen through a moving window (the picture of an image slide
for Ken Burns, the background for drift, else the slide's static part), and a *front*
layer of build items over it, each row of which belongs to one item. Nothing is
rasterized again while the slide moves; each frame only says where things are:

    motion = SlideMotion(duration=5.0, build=Build(delay=0.6))
    motion.windows              # ((0.6, 1.6),): when the picture changes
    motion.state(1.0, items=4, width=1920, height=1080)   # a MotionState

Everything here is pure arithmetic, in slide-local seconds (0 = the first frame the
slide is on screen, its incoming transition included). Outside `windows` the state
is constant, so the timeline keeps those frames as cheap Holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from .easing import LINEAR, Easing, parse_easing

__all__ = [
    "PAN_DIRECTIONS",
    "Build",
    "Drift",
    "ItemState",
    "KenBurns",
    "MotionState",
    "Reveal",
    "SlideMotion",
    "Window",
    "drift_back_size",
]

#: Camera directions: a pan "left" moves the view left, so the picture slides right.
PAN_DIRECTIONS: dict[str, tuple[int, int]] = {
    "none": (0, 0),
    "left": (-1, 0),
    "right": (1, 0),
    "up": (0, -1),
    "down": (0, 1),
}

# How far an item travels in its build, as a fraction of the frame's height (rise) or
# width (slide): far enough to read as motion, short enough to stay calm.
_RISE = 0.035
_SLIDE = 0.05
# With several items, each one's build takes this share of the build's duration; the
# rest staggers their starts.
_ITEM_SHARE = 0.6
# A build's easing unless it says: items decelerate into place.
_BUILD_EASING = parse_easing("ease-out-cubic")


@dataclass(frozen=True)
class KenBurns:
    """A slow zoom (and optional pan) across an image slide's picture, for its whole time on screen."""

    zoom_from: float = 1.0
    zoom_to: float = 1.12
    pan: str = "none"  # a key of PAN_DIRECTIONS
    easing: Easing = LINEAR


@dataclass(frozen=True)
class Build:
    """Text items enter one after another: `style` "rise", "fade" or "slide" (from the left)."""

    style: str = "rise"
    delay: float = 0.0  # slide-local seconds at which the first item starts
    duration: float = 1.0  # from the first item's start to the last item's end
    easing: Easing = _BUILD_EASING


@dataclass(frozen=True)
class Drift:
    """The background drifts slowly across the slide's whole time on screen.

    It is drawn `amount` larger than the frame, and the view travels that margin.
    """

    amount: float = 0.06
    direction: str = "right"  # a key of PAN_DIRECTIONS other than "none"


@dataclass(frozen=True)
class Reveal:
    """A chart appears: each pixel turns from its base to the finished chart at its own time.

    The clock runs from 0 to 1 over `duration` seconds from `delay`, through `easing`
    (a data chart's times already hold its easing and stagger: LINEAR there). With
    `fade`, the clock is also the chart's opacity.
    """

    delay: float = 0.0
    duration: float = 1.2
    easing: Easing = LINEAR
    fade: bool = False


@dataclass(frozen=True)
class Window:
    """The part of the back layer on screen: centre and size as fractions of the back layer."""

    cx: float = 0.5
    cy: float = 0.5
    size: float = 1.0  # width and height alike: the back layer has the aspect of its region
    # The height's fraction where it differs: a drift's back is its frame plus even
    # margins, a hair off the frame's aspect, and its window the frame's size in texels.
    size_y: float | None = None

    def back_map(self, region: tuple[int, int, int, int], back_width: int, back_height: int):
        """(sx, ox, sy, oy): a frame position X maps to back-layer position X·sx + ox (and y alike).

        Positions are continuous luma coordinates (a pixel's centre at +0.5); `region`
        is the frame box the back layer fills.
        """
        left, top, right, bottom = region
        size_y = self.size if self.size_y is None else self.size_y
        sx = self.size * back_width / (right - left)
        sy = size_y * back_height / (bottom - top)
        ox = (self.cx - self.size / 2) * back_width - left * sx
        oy = (self.cy - size_y / 2) * back_height - top * sy
        return sx, ox, sy, oy


@dataclass(frozen=True)
class ItemState:
    """One build item in a frame: its opacity and how far (luma pixels, even) it is from home."""

    opacity: float = 1.0
    dx: int = 0
    dy: int = 0


@dataclass(frozen=True)
class MotionState:
    """Where everything of a layered slide is in one frame."""

    window: Window = Window()
    items: tuple[ItemState, ...] = ()  # build items 1…n, in order
    reveal: float = 1.0  # the chart's reveal clock, 0..1
    reveal_opacity: float = 1.0


@dataclass(frozen=True)
class SlideMotion:
    """The motions of one slide, `duration` seconds on screen."""

    duration: float
    ken_burns: KenBurns | None = None
    build: Build | None = None
    drift: Drift | None = None
    reveal: Reveal | None = None

    @property
    def moves_back(self) -> bool:
        return self.ken_burns is not None or self.drift is not None

    @property
    def windows(self) -> tuple[tuple[float, float], ...]:
        """Slide-local [start, end) intervals in which the picture changes, merged and sorted."""
        spans = []
        if self.moves_back:
            spans.append((0.0, self.duration))
        for timed in (self.build, self.reveal):
            if timed is not None:
                spans.append((timed.delay, min(timed.delay + timed.duration, self.duration)))
        merged: list[tuple[float, float]] = []
        for start, end in sorted(s for s in spans if s[1] > s[0]):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return tuple(merged)

    def state(self, t: float, items: int, width: int, height: int) -> MotionState:
        """The state `t` seconds into the slide, for a layer with `items` build items at width×height."""
        fraction = min(max(t / self.duration, 0.0), 1.0) if self.duration > 0 else 1.0
        window = Window()
        if self.ken_burns is not None:
            window = _ken_burns_window(self.ken_burns, fraction)
        elif self.drift is not None:
            window = _drift_window(self.drift, fraction, width, height)
        states: tuple[ItemState, ...] = ()
        if items:
            if self.build is None:
                states = (ItemState(),) * items
            else:
                states = tuple(_item_state(self.build, i, items, t, width, height) for i in range(items))
        clock, opacity = 1.0, 1.0
        if self.reveal is not None:
            r = self.reveal
            linear = min(max((t - r.delay) / r.duration, 0.0), 1.0) if r.duration > 0 else 1.0
            clock = min(max(r.easing(linear), 0.0), 1.0)
            opacity = clock if r.fade else 1.0
        return MotionState(window, states, clock, opacity)


def _ken_burns_window(kb: KenBurns, fraction: float) -> Window:
    # On screen a picture point p sits at zoom · (p − centre) + ½ (as fractions of the
    # picture and the frame). The camera starts at one side of the start zoom's margin
    # and ends at the other side of the end zoom's; mixing both the zoom and zoom ·
    # centre linearly with the eased fraction moves every point in a straight line at
    # the easing's speed. (Mixing the centre itself, or scaling a ±1 travel by the
    # current margin, makes the picture start the wrong way and stop at full speed.)
    eased = kb.easing(fraction)
    dx, dy = PAN_DIRECTIONS[kb.pan]
    zoom_from, zoom_to = max(kb.zoom_from, 1.0), max(kb.zoom_to, 1.0)
    zoom = max(zoom_from + (zoom_to - zoom_from) * eased, 1.0)  # a back curve may overshoot below 1
    size = 1.0 / zoom
    margin = (1.0 - size) / 2  # how far the centre may move with the view inside the picture

    def centre(direction: int) -> float:
        start = zoom_from * (0.5 - direction * (1.0 - 1.0 / zoom_from) / 2)
        end = zoom_to * (0.5 + direction * (1.0 - 1.0 / zoom_to) / 2)
        mixed = (start + (end - start) * eased) / zoom
        return min(max(mixed, 0.5 - margin), 0.5 + margin)  # overshoot stays inside the picture

    return Window(centre(dx), centre(dy), size)


def drift_back_size(amount: float, width: int, height: int) -> tuple[int, int]:
    """The size a drift's background is drawn at for a width×height frame: about `amount`
    larger, with an even margin on each side, so that across its travel the view rests
    on whole texels of luma and of chroma (half the margin) alike."""

    def grown(size: int) -> int:
        return max(2, size + 4 * round(size * amount / 4))

    return grown(width), grown(height)


def _drift_window(drift: Drift, fraction: float, width: int, height: int) -> Window:
    # The window is the frame's size in back texels, so the view only translates: at
    # rest across the drift, the offset is a whole number of texels in both planes (the
    # margins are even), and the resampler copies those rows or columns instead of
    # blending them.
    back_width, back_height = drift_back_size(drift.amount, width, height)
    size, size_y = width / back_width, height / back_height
    dx, dy = PAN_DIRECTIONS[drift.direction]
    travel = 2 * fraction - 1  # constant speed: a drift has no ends to ease
    return Window(0.5 + dx * (1 - size) / 2 * travel, 0.5 + dy * (1 - size_y) / 2 * travel, size, size_y)


def _item_state(build: Build, index: int, count: int, t: float, width: int, height: int) -> ItemState:
    if count == 1:
        start, length = build.delay, build.duration
    else:
        length = build.duration * _ITEM_SHARE
        start = build.delay + index * (build.duration - length) / (count - 1)
    linear = min(max((t - start) / length, 0.0), 1.0) if length > 0 else 1.0
    eased = build.easing(linear)
    away = 1.0 - eased  # back curves overshoot: the item passes home and returns
    opacity = min(max(eased, 0.0), 1.0)
    if build.style == "rise":
        return ItemState(opacity, 0, _even(away * _RISE * height))
    if build.style == "slide":
        return ItemState(opacity, -_even(away * _SLIDE * width), 0)
    return ItemState(opacity)


def _even(pixels: float) -> int:
    # Even luma offsets are whole chroma texels, so Y and CbCr move together.
    return 2 * round(pixels / 2)
