"""Frame-exact schedule of a deck: which frames hold a slide, which run a transition.

Pure arithmetic: no files, no GL. The rules (also in docs/design.md):

- A slide's duration is its whole time on screen, including the transitions into and
  out of it. A transition overlaps the end of one slide and the start of the next, as
  ffmpeg's xfade does, so total = Σ durations − Σ transition durations.
- Frame boundaries round *cumulative* time × fps, never per-slide durations, so a
  60.0 s deck at 30 fps is exactly 1800 frames whatever its slides' lengths.
- A transition of N frames is at time (k + 1) / (N + 1) on its k-th frame: never
  exactly 0 or 1, which would repeat the hold frames on either side of it. Its
  easing curve turns that time into progress.
- A slide with motion (engine.motion) gives the intervals in which its picture
  changes. Frames of a hold inside one (strictly after its start, before its end)
  become a Motion segment, composited one by one; the rest stay Holds, composited
  once and encoded N times.
- Frame f shows time f / fps; a slide is `t = f / fps − start` seconds into its time
  on screen (Timeline.slide_time).
- Something drawn over the frames (a caption) that changes at frame f splits the Hold
  around f in two (`split_holds`), so each Hold still shows one picture.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from .easing import LINEAR, Easing

__all__ = ["Hold", "Motion", "Segment", "SlideTiming", "Timeline", "Transition", "build_timeline", "split_holds"]


@dataclass(frozen=True)
class SlideTiming:
    """What the timeline needs to know of one slide."""

    duration: float  # seconds on screen, transitions included
    transition: str | None = None  # name of the transition *into* this slide; None = cut
    transition_duration: float = 0.0
    transition_params: dict = field(default_factory=dict, compare=False, hash=False)
    transition_easing: Easing = LINEAR
    # Slide-local [start, end) seconds in which the slide's own picture changes.
    motion: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Hold:
    """`slide` shown unchanged for frames [start, end)."""

    slide: int
    start: int
    end: int

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Transition:
    """Frames [start, end) blend slide `from_slide` into `to_slide` with `name`."""

    from_slide: int
    to_slide: int
    name: str
    start: int
    end: int
    params: dict = field(default_factory=dict, compare=False, hash=False)
    easing: Easing = LINEAR

    @property
    def frames(self) -> int:
        return self.end - self.start

    def progress(self, frame: int) -> float:
        """Eased progress of absolute frame number `frame`: time (k + 1) / (N + 1) through the curve."""
        if not self.start <= frame < self.end:
            raise ValueError(f"frame {frame} is outside this transition [{self.start}, {self.end})")
        return self.easing((frame - self.start + 1) / (self.frames + 1))


@dataclass(frozen=True)
class Motion:
    """`slide` alone on screen for frames [start, end), changing every frame."""

    slide: int
    start: int
    end: int

    @property
    def frames(self) -> int:
        return self.end - self.start


Segment = Hold | Motion | Transition


@dataclass(frozen=True)
class Timeline:
    fps: int
    segments: tuple[Segment, ...]
    slide_starts: tuple[float, ...]  # seconds at which each slide first appears

    @property
    def frame_count(self) -> int:
        return self.segments[-1].end if self.segments else 0

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps

    def segment_at(self, frame: int) -> Segment:
        """The segment that frame number `frame` belongs to."""
        if not 0 <= frame < self.frame_count:
            raise ValueError(f"frame {frame} is outside the video (0..{self.frame_count - 1})")
        lo, hi = 0, len(self.segments) - 1
        while lo < hi:  # segments are sorted and contiguous
            mid = (lo + hi) // 2
            if self.segments[mid].end <= frame:
                lo = mid + 1
            else:
                hi = mid
        return self.segments[lo]

    def frame_at(self, seconds: float) -> int:
        """The frame on screen at time `seconds` (clamped to the video)."""
        return min(max(math.floor(seconds * self.fps + 1e-9), 0), self.frame_count - 1)

    def first_frame(self, slide: int) -> int:
        """The frame on which slide `slide` first appears."""
        return _frame(self.slide_starts[slide], self.fps)

    def slide_time(self, slide: int, frame: int) -> float:
        """Seconds slide `slide` has been on screen at frame `frame` (its first frame: 0)."""
        return frame / self.fps - self.slide_starts[slide]

    def __iter__(self) -> Iterator[Segment]:
        return iter(self.segments)


def _frame(seconds: float, fps: int) -> int:
    # Round half up on a value nudged off float noise: 0.1 s × 30 fps is 3, not 2.9999.
    return math.floor(seconds * fps + 0.5 + 1e-9)


def build_timeline(slides: Sequence[SlideTiming], fps: int) -> Timeline:
    """Lay `slides` out in frames. The first slide's transition is ignored (nothing precedes it)."""
    if fps <= 0:
        raise ValueError("fps must be positive")
    if not slides:
        return Timeline(fps, (), ())

    for i, slide in enumerate(slides):
        incoming = _overlap(slide) if i > 0 else 0.0
        outgoing = _overlap(slides[i + 1]) if i + 1 < len(slides) else 0.0
        if slide.duration <= 0 or incoming + outgoing > slide.duration + 1e-9:
            # The spec rejects such decks with a path; this guards direct callers.
            raise ValueError(
                f"slide {i}: {slide.duration} s cannot hold its transitions ({incoming} s in, {outgoing} s out)"
            )

    # Start time of each slide: the previous start plus the previous duration, pulled
    # back by the overlap of the transition into this slide.
    starts: list[float] = [0.0]
    for i in range(1, len(slides)):
        starts.append(starts[-1] + slides[i - 1].duration - _overlap(slides[i]))
    end_time = starts[-1] + slides[-1].duration

    segments: list[Segment] = []
    for i, slide in enumerate(slides):
        hold_from = starts[i]
        if i > 0 and slide.transition is not None and _overlap(slide) > 0:
            t0, t1 = _frame(starts[i], fps), _frame(starts[i] + slide.transition_duration, fps)
            if t1 > t0:
                segments.append(
                    Transition(
                        i - 1, i, slide.transition, t0, t1, dict(slide.transition_params), slide.transition_easing
                    )
                )
            hold_from = starts[i] + slide.transition_duration
        hold_to = starts[i + 1] if i + 1 < len(slides) else end_time
        h0, h1 = _frame(hold_from, fps), _frame(hold_to, fps)
        if h1 > h0:
            segments.extend(_split_hold(i, h0, h1, starts[i], slide.motion, fps))
    return Timeline(fps, tuple(segments), tuple(starts))


def _split_hold(slide: int, h0: int, h1: int, start: float, motion, fps: int) -> list[Segment]:
    """Frames [h0, h1) of `slide`: Motion where its picture changes, Holds between."""
    moving = [False] * (h1 - h0)
    for m0, m1 in motion:
        # Frames strictly inside (m0, m1) change; at or before m0 the picture is still
        # the one at m0, at or after m1 the one at m1.
        first = max(h0, math.floor((start + m0) * fps + 1e-9) + 1)
        last = min(h1, math.ceil((start + m1) * fps - 1e-9))
        for frame in range(first, last):
            moving[frame - h0] = True
    segments: list[Segment] = []
    run_start = h0
    for frame in range(h0 + 1, h1 + 1):
        if frame == h1 or moving[frame - h0] != moving[run_start - h0]:
            kind = Motion if moving[run_start - h0] else Hold
            segments.append(kind(slide, run_start, frame))
            run_start = frame
    return segments


def split_holds(timeline: Timeline, frames: Sequence[int]) -> Timeline:
    """`timeline` with each Hold that spans one of `frames` (strictly inside it) cut there."""
    cuts = sorted(set(frames))
    if not cuts:
        return timeline
    segments: list[Segment] = []
    for segment in timeline.segments:
        if not isinstance(segment, Hold):
            segments.append(segment)
            continue
        start = segment.start
        for cut in cuts[bisect.bisect_right(cuts, segment.start) : bisect.bisect_left(cuts, segment.end)]:
            segments.append(Hold(segment.slide, start, cut))
            start = cut
        segments.append(Hold(segment.slide, start, segment.end))
    return Timeline(timeline.fps, tuple(segments), timeline.slide_starts)


def _overlap(slide: SlideTiming) -> float:
    if slide.transition is None or slide.transition == "cut":
        return 0.0
    return slide.transition_duration
