"""A deck's frames, one at a time: the slides a compositor needs, uploaded on first use.

`SlideSource` is what the render thread (engine.pipeline) and the preview share: it
rasterizes and uploads each slide when the timeline first reaches it (as layers when
the slide moves), gives each frame its motion states, runs shared-background
transitions through engine.backdrop, and burns captions in. `FrameSource` keeps one
compositor open and draws any frame of the deck on demand (the preview and stills).
`deck_timeline` is the frame plan of a deck at one output, holds split at caption
changes; `StageClock` adds up the wall time of each stage for the render report.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import numpy as np

from .ahead import Made, SlidesAhead
from .backdrop import Backdrops
from .caption_burn import CaptionOverlay
from .captions import Cue, cue_frames
from .colour import nv12_size
from .composite import Compositor, FrameSpec, SlideHandle, open_compositor
from .errors import SpecError
from .motion import MotionState
from .platforms import Output
from .raster import SlideLayers, SlideRasterizer
from .raster.clip import ClipFrames
from .spec import Deck
from .timeline import Hold, Motion, Segment, Timeline, Transition, build_timeline, split_holds
from .usershader import user_transition_file

__all__ = [
    "FrameSource",
    "SlideSource",
    "StageClock",
    "burned_cues",
    "caption_cues",
    "compile_transition_files",
    "deck_timeline",
    "glsl_files_of",
]


class StageClock:
    """Accumulates wall time per named stage; one instance per thread."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - start


def deck_timeline(deck: Deck, output: Output) -> Timeline:
    timeline = build_timeline(deck.timings(), output.fps)
    if timeline.frame_count == 0:
        raise SpecError(
            f"the deck lasts {deck.total_duration():g} s, less than one frame at {output.fps} fps", "slides"
        )
    burned = burned_cues(deck, timeline)  # a Hold shows one caption (and one highlighted word)
    return split_holds(timeline, cue_frames(burned, output.fps)) if burned else timeline


def caption_cues(deck: Deck, timeline: Timeline) -> list[Cue]:
    """The deck's captions in video time (engine.captions), none for a deck without any."""
    if deck.captions is None and not any(slide.captions for slide in deck.slides):
        return []
    return deck.caption_cues(timeline.slide_starts, timeline.duration)


def burned_cues(deck: Deck, timeline: Timeline) -> list[Cue]:
    return [] if deck.captions is not None and not deck.captions.burn else caption_cues(deck, timeline)


def glsl_files_of(timeline: Timeline) -> list[Path]:
    """User transition files the timeline runs, in order of first use."""
    return list(_transition_files(timeline))


def _transition_files(timeline: Timeline) -> dict[Path, int]:
    """Each user transition file the timeline runs → the first slide it brings in."""
    files: dict[Path, int] = {}
    for segment in timeline:
        if isinstance(segment, Transition):
            file = user_transition_file(segment.name)
            if file is not None:
                files.setdefault(file, segment.to_slide)
    return files


def compile_transition_files(compositor, timeline: Timeline) -> None:
    """Compile every user transition file before the first frame, whatever is asked of it.

    A render and a still then fail alike, with the path of the slide that brings the
    file in, even when the still's moment is outside that transition.
    """
    for file, slide in _transition_files(timeline).items():
        try:
            compositor.compile_transition(file)
        except SpecError as exc:
            raise SpecError(exc.reason, f"slides[{slide}].{exc.path}") from exc


class SlideSource:
    """Slides for one compositor: rasterized and uploaded on first use, as layers when they move.

    `frame(segment, n)` is the FrameSpec of frame n, with the motion state of each slide
    in motion at that frame. Slides that look the same share a key, and one upload.
    """

    def __init__(
        self,
        deck: Deck,
        output: Output,
        timeline: Timeline,
        compositor: Compositor,
        clock: StageClock | None = None,
        max_cached: int = 4,
        cache_bytes: int | None = None,
        ahead: bool = False,
    ) -> None:
        self.deck, self.output, self.timeline, self.compositor = deck, output, timeline, compositor
        self.clock = clock or StageClock()
        self.rasterizer = SlideRasterizer(deck, output, max_cached=max_cached, cache_bytes=cache_bytes)
        # With `ahead`, slides are made on a thread of their own before their first
        # frame (`expect`); the render asks for it, a preview's frames come one by one.
        prepare = getattr(compositor, "prepare", None)
        self.ahead = SlidesAhead(self.rasterizer, prepare) if ahead else None
        self.clips = ClipFrames(self.rasterizer)
        # A video slide's frames are its own, even where two slides play one clip alike.
        self.keys = [
            self.rasterizer.key(i) + (f"-{i}" if self.clips.is_clip(i) else "") for i in range(len(deck.slides))
        ]
        self._clip_serials: dict[str, int] = {}  # the picture each video slide has uploaded
        self.motions = [deck.motion(i) for i in range(len(deck.slides))]
        self.handles: dict[str, SlideHandle] = {}
        self._items: dict[str, int] = {}  # build items of each layered upload
        self.uploaded = 0
        self.backdrops = Backdrops(self.rasterizer, compositor, self.ahead)
        burned = burned_cues(deck, timeline)
        self.captions = CaptionOverlay(burned, deck.theme, output) if burned else None

    def handle(self, slide: int, frame: int = 0) -> SlideHandle:
        key = self.keys[slide]
        if self.clips.is_clip(slide):
            return self._clip_handle(slide, frame)
        if key not in self.handles:
            with self.clock("raster"):
                made = self._made(key, slide)
            with self.clock("upload"):
                self.handles[key] = self._upload(key, made)
            if self.motions[slide] is not None:
                self._items[key] = made.slide.count  # (SlideLayers and their planes alike)
            self.uploaded += 1
        return self.handles[key]

    def expect(self, segment: Segment) -> None:
        """`segment` comes soon: have `ahead` make the slides it shows that are not uploaded."""
        if self.ahead is None:
            return
        shown = (segment.from_slide, segment.to_slide) if isinstance(segment, Transition) else (segment.slide,)
        for slide in shown:
            key = self.keys[slide]
            if key not in self.handles and not self.clips.is_clip(slide):
                self.ahead.request(key, slide)
        self.backdrops.expect(segment)  # (after the slides: a move's silhouettes need them first)

    def _made(self, key: str, slide: int) -> Made:
        """Slide `slide` rasterized: made ahead (waited for, if it is not done yet), or now."""
        made = None if self.ahead is None else self.ahead.take(key)
        if made is not None:
            return made
        if self.motions[slide] is None:
            return Made(self.rasterizer.raster(slide)[1], prepared=False)
        return Made(self.rasterizer.layers(slide), prepared=False)

    def _upload(self, key: str, made: Made) -> SlideHandle:
        if made.prepared:  # (only a compositor with `prepare` has it done)
            return cast(Any, self.compositor).upload_prepared(key, made.slide)
        if isinstance(made.slide, SlideLayers):
            return self.compositor.upload_layers(key, made.slide)
        return self.compositor.upload(key, made.slide)

    def _clip_handle(self, slide: int, frame: int) -> SlideHandle:
        """Video slide `slide`'s picture at `frame`, uploaded in place of the one before."""
        key = self.keys[slide]
        with self.clock("clip"):
            serial, picture, nv12 = self.clips.picture(slide, self.timeline.slide_time(slide, frame), nv12=True)
        if self._clip_serials.get(key) != serial or key not in self.handles:
            with self.clock("upload"):
                if key in self.handles:
                    self.compositor.release(self.handles.pop(key))
                upload = self.compositor.upload_nv12 if nv12 else self.compositor.upload
                self.handles[key] = upload(f"{key}#{serial}", picture)
            self._clip_serials[key] = serial
            self.uploaded += 1
        return self.handles[key]

    def state(self, slide: int, frame: int) -> MotionState | None:
        motion = self.motions[slide]
        if motion is None:
            return None
        items = self._items[self.keys[slide]]
        return motion.state(self.timeline.slide_time(slide, frame), items, self.output.width, self.output.height)

    def frame(self, segment: Segment, frame: int) -> FrameSpec:
        """What the compositor draws for `frame` of `segment`."""
        if isinstance(segment, (Hold, Motion)):
            handle = self.handle(segment.slide, frame)
            return FrameSpec(handle, source_state=self.state(segment.slide, frame))
        source, target = self.handle(segment.from_slide, frame), self.handle(segment.to_slide, frame)
        return FrameSpec(
            source,
            target,
            segment.name,
            segment.progress(frame),
            segment.params,
            source_state=self.state(segment.from_slide, frame),
            target_state=self.state(segment.to_slide, frame),
        )

    def draw(self, segment: Segment, frame: int, into: np.ndarray) -> None:
        """Composite `frame` of `segment` into the NV12 buffer `into`.

        A push or a wipe between two slides on one background moves their content over
        it, which stays (engine.backdrop); any other frame is the compositor's alone.
        """
        spec = self.frame(segment, frame)
        transition = segment if isinstance(segment, Transition) else None
        mode = None if transition is None else self.backdrops.mode(transition)
        if transition is not None and mode == "through":
            spec = self.backdrops.through(spec, transition)
        self.compositor.render(spec)
        self.compositor.read_nv12(into)
        if transition is not None and mode == "move":
            self.backdrops.move(spec, transition, into)
        if self.captions is not None:
            with self.clock("captions"):
                self.captions.apply(frame, into)

    def release(self, key: str) -> None:
        self.compositor.release(self.handles.pop(key))
        self._items.pop(key, None)
        if key in self._clip_serials:  # a video slide no later segment shows: its file closes
            self._clip_serials.pop(key)
            self.clips.close(self.keys.index(key))

    @property
    def warnings(self) -> list[str]:
        """What the layouts could not do, per slide, once each (made here or ahead)."""
        ahead = [] if self.ahead is None else self.ahead.warnings
        return list(dict.fromkeys([*self.rasterizer.warnings, *ahead]))

    def close(self) -> None:
        """Close the video slides' files and stop making slides ahead."""
        try:
            self.clips.close()
        finally:
            if self.ahead is not None:
                self.ahead.close()


class FrameSource:
    """Any frame of a deck at one output, composited as a render would, by one compositor
    kept open across frames (the preview's source); used on one thread, then closed."""

    def __init__(self, deck: Deck, output: Output, *, compositor: str = "auto") -> None:
        self.output, self.timeline = output, deck_timeline(deck, output)
        self.compositor = open_compositor(
            compositor, output.width, output.height, glsl_files=glsl_files_of(self.timeline)
        )
        try:
            compile_transition_files(self.compositor, self.timeline)
            self._slides = SlideSource(deck, output, self.timeline, self.compositor)
        except BaseException:
            self.compositor.close()
            raise

    def frame(self, n: int) -> np.ndarray:
        """Frame `n` as a new NV12 buffer; only the slides it shows stay uploaded."""
        segment = self.timeline.segment_at(n)
        buffer = np.empty(nv12_size(self.output.width, self.output.height), np.uint8)
        self._slides.draw(segment, n, buffer)
        shown = (segment.from_slide, segment.to_slide) if isinstance(segment, Transition) else (segment.slide,)
        for key in set(self._slides.handles) - {self._slides.keys[i] for i in shown}:
            self._slides.release(key)
        return buffer

    def close(self) -> None:
        try:
            self._slides.close()
        finally:
            self.compositor.close()
