"""Drive the stages for one output: render thread → bounded queue → encoder.

The render thread owns the compositor (a GL context is current on one thread only):
it rasterizes and uploads slides as the timeline reaches them, composites each
segment and reads frames back into a small pool of reusable NV12 buffers. A Hold is
composited once and handed over as one item with a repeat count; the encoder (on the
calling thread) encodes that one buffer at N timestamps. Motion and Transition frames
are composited one by one; a slide in motion is uploaded once, as layers, and each
of its frames carries its motion state. The pool bounds memory: it is
the same for a 10 s video and a 10 min one.
"""

from __future__ import annotations

import bisect
import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil

from ._host import (
    address_space_needed,
    allocation_failure,
    check_memory,
    memory_shortage_message,
    return_free_memory,
    tune_allocator,
    usable_cores,
)
from .background import Background
from .captions import mux_soft_track, write_sidecars
from .colour import nv12_size, nv12_to_rgb
from .composite import Compositor, open_compositor
from .cover import attach_cover, cover_in_background, thumbnail_path, write_thumbnail
from .encode import EncodeSettings, open_encoder
from .encode.backends import container_for
from .errors import (
    AssetError,
    InsufficientResourcesError,
    OutputError,
    RenderError,
    RenderTimeoutError,
    SettingsError,
    SpecError,
)
from .frames import (
    FrameSource,
    SlideSource,
    StageClock,
    caption_cues,
    compile_transition_files,
    deck_timeline,
    glsl_files_of,
)
from .output import atomic_output, check_resources, estimate_peak_memory, scratch_file
from .platforms import Output
from .report import RenderReport, deck_sha256, written_profile
from .spec import Deck
from .timeline import Hold, Segment, Timeline, Transition
from .verify import luma_quality, sample_points

__all__ = ["RenderProgress", "pool_size", "render_output", "render_still", "render_still_nv12"]

log = logging.getLogger(__name__)

# Frames in flight: one being composited, one queued, one being encoded; within
# _POOL_BYTES, and never fewer than two (one composited while the other is encoded):
# three at 1080p (3 MB each), two at 4K (12 MB each).
_POOL_SIZE = 3
_POOL_BYTES = 32 * 2**20
# Slide images the rasterizer keeps, in bytes: the compositor holds what is uploaded,
# so this only spares rasterizing again a slide that comes back; at 4K (25 MB an
# image) none is kept.
_RASTER_CACHE_BYTES = 16 * 2**20
# Distinct slides kept uploaded at once (3 MB each at 1080p): a transition needs two.
_MAX_LIVE_SLIDES = 4
# How often blocked threads wake to check for cancellation, seconds.
_POLL = 0.1
# How often the report's peak resident size is sampled while frames go through, seconds
# (psutil's read of /proc per frame cost 0.3 s of a 1080p minute's render).
_RSS_EVERY = 0.05
# What a GL compositor adds to a render's resident memory (LLVM, Mesa, its targets);
# measured 80 MB more than numpy at 1080p and at 320x180 on llvmpipe.
_GL_MEMORY = 80 * 2**20
# Files that take a mov_text subtitle track (captions.soft).
_SOFT_TRACK_FILES = (".mp4", ".m4v", ".mov")
# Failures that are the user's to fix as they are: never read as memory running out.
_AS_THEY_ARE = (InsufficientResourcesError, RenderTimeoutError, SpecError, AssetError, OutputError, SettingsError)


@dataclass(frozen=True)
class RenderProgress:
    output: str  # the output's label, e.g. "youtube"
    frames_done: int
    frames_total: int
    elapsed: float  # seconds

    @property
    def fraction(self) -> float:
        return self.frames_done / self.frames_total if self.frames_total else 1.0


ProgressCallback = Callable[[RenderProgress], None]


@dataclass
class _Frames:
    """A composited frame to be encoded `count` times from timestamp `first_pts`."""

    buffer: np.ndarray
    first_pts: int
    count: int


class _Done:
    pass


class _Cancelled(Exception):
    pass


class _FrameProducer(threading.Thread):
    """The render thread: slides → compositor → NV12 buffers on a bounded queue."""

    def __init__(
        self, deck: Deck, output: Output, timeline: Timeline, compositor: str, fallbacks: list[str], span: range
    ) -> None:
        super().__init__(name=f"reel-render-{output.label}", daemon=True)
        self.deck, self.output, self.timeline = deck, output, timeline
        self.span = span  # the frames to make; items are numbered from its start
        self.compositor_name = compositor
        self.fallbacks = fallbacks
        self.clock = StageClock()
        self.compositor_kind = self.renderer = ""
        self.composited = 0
        self.slides_uploaded = 0
        self.warnings: list[str] = []
        frame_bytes = nv12_size(output.width, output.height)
        self.pool_size = pool_size(frame_bytes)
        self._ready: queue.Queue = queue.Queue(maxsize=self.pool_size)
        self._free: queue.Queue = queue.Queue()
        for _ in range(self.pool_size):
            self._free.put(np.empty(frame_bytes, dtype=np.uint8))
        self._cancel = threading.Event()

    # -- consumer side (the calling thread) --
    def frames(self, deadline: _Deadline | None = None) -> Iterator[_Frames]:
        """Composited frames in timeline order; raises what the render thread raised,
        or RenderTimeoutError once `deadline` has passed."""
        while True:
            if deadline is not None:
                deadline.check()
            try:
                item = self._ready.get(timeout=_POLL)
            except queue.Empty:
                if not self.is_alive() and self._ready.empty():
                    raise RenderError("the render thread stopped without finishing")
                continue
            if isinstance(item, _Done):
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def recycle(self, buffer: np.ndarray) -> None:
        self._free.put(buffer)

    def cancel(self) -> None:
        self._cancel.set()

    # -- producer side (this thread) --
    def run(self) -> None:
        compositor = None
        try:
            with self.clock("start_compositor"):
                compositor = open_compositor(
                    self.compositor_name,
                    self.output.width,
                    self.output.height,
                    self.fallbacks,
                    glsl_files_of(self.timeline),
                )
            self.compositor_kind, self.renderer = compositor.kind, compositor.renderer
            with self.clock("start_compositor"):
                compile_transition_files(compositor, self.timeline)
            self._produce(compositor)
            self._put(_Done())
        except _Cancelled:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            self._put(exc, even_if_cancelled=True)
        finally:
            if compositor is not None:
                compositor.close()

    def _produce(self, compositor: Compositor) -> None:
        # The compositor holds what is on screen; the raster cache only needs to cover
        # a slide that comes back after it was released.
        slides = SlideSource(
            self.deck,
            self.output,
            self.timeline,
            compositor,
            self.clock,
            max_cached=1,
            cache_bytes=_RASTER_CACHE_BYTES,
            ahead=True,
        )
        try:
            self._segments(slides)
        finally:
            slides.close()
        self.slides_uploaded = slides.uploaded
        self.warnings = slides.warnings

    def _segments(self, slides: SlideSource) -> None:
        uses = _uses(self.timeline, slides.keys)
        span = self.span
        for index, segment in enumerate(self.timeline):
            first, end = max(segment.start, span.start), min(segment.end, span.stop)
            if first >= end:  # outside the chunk
                continue
            # While one slide shows, what the next two segments bring in is made meanwhile
            # (engine.ahead): a motion segment's frames, or a hold's, cover a new slide's
            # making. Not during a transition: a third slide beside its two raised the
            # peak (+12 MB at 4K).
            if not isinstance(segment, Transition):
                for coming in self.timeline.segments[index + 1 : index + 3]:
                    if coming.start < span.stop:
                        slides.expect(coming)
            if isinstance(segment, Hold):
                self._composite(slides, segment, first, end - first)
            else:  # Motion and Transition frames change every frame
                for frame in range(first, end):
                    self._composite(slides, segment, frame, 1)
                slides.backdrops.release()
            # Keep few slides uploaded, so memory does not grow with the deck: drop those
            # no later segment shows, then those shown again furthest in the future
            # (they are rasterized again when they come back).
            for key in [k for k in slides.handles if _next_use(uses[k], index) is None]:
                slides.release(key)
            while len(slides.handles) > _MAX_LIVE_SLIDES:
                # Every key left is shown again (the others were released above).
                slides.release(max(slides.handles, key=lambda k: _next_use(uses[k], index) or 0))

    def _composite(self, slides: SlideSource, segment: Segment, frame: int, count: int) -> None:
        buffer = self._take_buffer()
        with self.clock("composite"):
            slides.draw(segment, frame, buffer)
        self.composited += 1
        self._put(_Frames(buffer, frame - self.span.start, count))

    def _take_buffer(self) -> np.ndarray:
        while True:
            if self._cancel.is_set():
                raise _Cancelled
            try:
                return self._free.get(timeout=_POLL)
            except queue.Empty:
                continue

    def _put(self, item: _Frames | _Done | BaseException, even_if_cancelled: bool = False) -> None:
        while True:
            if self._cancel.is_set() and not even_if_cancelled:
                raise _Cancelled
            try:
                self._ready.put(item, timeout=_POLL)
                return
            except queue.Full:
                if self._cancel.is_set():
                    return  # nobody is listening any more
                continue


def pool_size(frame_bytes: int) -> int:
    """How many NV12 buffers of `frame_bytes` a render keeps in flight (see _POOL_BYTES)."""
    return max(2, min(_POOL_SIZE, _POOL_BYTES // frame_bytes))


def keyframe_psnr(per_frame: dict[int, float]) -> dict[str, float | None]:
    """Each checked keyframe's PSNR for the report: JSON keys, and None where lossless."""
    return {str(pts): None if db == float("inf") else round(db, 2) for pts, db in sorted(per_frame.items())}


def chunk_span(frames: tuple[int, int], frame_count: int, gop: int) -> range:
    """Frames [start, end) of a `frame_count`-frame video as a chunk, checked: a chunk
    starts on a keyframe, so that it can open with an IDR and join its neighbours."""
    start, end = frames
    if not 0 <= start < end <= frame_count:
        raise SpecError(f"frames {start}-{end}: a chunk lies within the video's {frame_count} frames", "frames")
    if start % gop:
        raise SpecError(f"frames {start}-{end}: a chunk starts on a keyframe (a multiple of {gop})", "frames")
    return range(start, end)


def _uses(timeline: Timeline, keys: list[str]) -> dict[str, list[int]]:
    """For each slide key, the indices of the segments that show it, in order."""
    uses: dict[str, list[int]] = defaultdict(list)
    for index, segment in enumerate(timeline):
        slides = (segment.from_slide, segment.to_slide) if isinstance(segment, Transition) else (segment.slide,)
        for key in {keys[slide] for slide in slides}:
            uses[key].append(index)
    return uses


def _next_use(indices: list[int], after: int) -> int | None:
    """The first of the sorted segment `indices` after segment `after`, if any."""
    position = bisect.bisect_right(indices, after)
    return indices[position] if position < len(indices) else None


class _FrameStash:
    """Frames kept for the end of a render, in a scratch file beside its temporary.

    The PSNR check's four keyframes and the cover frame were 45 MB of a 4K render's
    peak, held from the moment they passed until the video was finished.
    """

    def __init__(self, file) -> None:
        self._file = file
        self._where: dict[object, tuple[int, int]] = {}  # name -> (offset, bytes)

    @classmethod
    @contextmanager
    def beside(cls, temporary: Path) -> Iterator[_FrameStash]:
        with scratch_file(temporary, "frames") as path, open(path, "w+b") as file:
            yield cls(file)

    def put(self, name: object, frame: np.ndarray) -> None:
        offset = self._file.seek(0, 2)
        self._file.write(np.ascontiguousarray(frame).data)
        self._where[name] = (offset, frame.nbytes)

    def __contains__(self, name: object) -> bool:
        return name in self._where

    def get(self, name: object) -> np.ndarray:
        offset, size = self._where[name]
        self._file.seek(offset)
        return np.frombuffer(self._file.read(size), dtype=np.uint8).copy()


class _Deadline:
    """A render's wall-clock limit: `check` raises RenderTimeoutError once it has passed."""

    def __init__(self, seconds: float, label: str, frames_total: int) -> None:
        self.seconds, self.label, self.frames_total = seconds, label, frames_total
        self.at = time.monotonic() + seconds
        self.frames_done = 0

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise RenderTimeoutError(
                f"{self.label}: the render ran past its time limit of {self.seconds:g} s "
                f"({self.frames_done} of {self.frames_total} frames done); its partial file was removed"
            )


def _memory_needs(output: Output, compositor: str, timeline: Timeline, encoder_threads: int | None) -> tuple[int, int]:
    """(peak resident bytes, address-space bytes) one render of `output` needs."""
    gl = compositor == "gl" or bool(glsl_files_of(timeline))
    need = estimate_peak_memory(output) + (_GL_MEMORY if gl else 0)
    space = address_space_needed(output.width, output.height, encoder_threads=encoder_threads or usable_cores(), gl=gl)
    return need, space


def render_output(
    deck: Deck,
    output: Output,
    target: Path,
    *,
    compositor: str = "auto",
    encoder: str = "auto",
    on_progress: ProgressCallback | None = None,
    encoder_threads: int | None = None,
    temp_tag: str = "",
    thumbnail: bool = False,
    timeout: float | None = None,
    skip_holds: bool = True,
    frames: tuple[int, int] | None = None,
    format: str = "mp4",
) -> RenderReport:
    """Render `deck` for `output` into the MP4 file `target`; return what happened.

    `format` "webm" or "gif" writes that instead (`engine.encode.backends.FORMATS`).

    `encoder_threads` caps the encoder's threads (default: one per usable core); set
    it when several renders share the machine. `temp_tag` marks the temporary file
    (see `output.atomic_output`). The frame at the deck's cover moment becomes the
    MP4's cover art and, with `thumbnail`, a PNG beside it. `timeout` (seconds) limits
    the whole render: past it, RenderTimeoutError and no file (checked between frames;
    a call that never returns is stopped only by killing the process, as the job
    supervisor does). `skip_holds` writes the repeats of a held frame as skip frames
    instead of encoding them (libx264 only; other encoders encode every frame, and the
    report's `holds` says which happened).

    `frames` (start, end) renders only those frames of the video, as a *chunk* that
    `engine.chunks.join_chunks` joins to its neighbours: `start` must fall on a keyframe
    (a multiple of the output's GOP), its timestamps start at 0, and it has no sound,
    cover or thumbnail (the join adds them to the whole video).

    Memory is checked before anything loads (`_host.check_memory`: host, cgroup and
    address-space limits); an allocation that fails anyway, wherever it fails (a library
    that cannot be mapped, the encoder's next frame, a GL context), is an
    InsufficientResourcesError with the figures, not the error it happened to cause.
    """
    tune_allocator()
    try:
        with _memory_running_out(deck, output, compositor, encoder_threads, "render"):
            return _render_output(
                deck,
                output,
                target,
                compositor=compositor,
                encoder=encoder,
                on_progress=on_progress,
                encoder_threads=encoder_threads,
                temp_tag=temp_tag,
                thumbnail=thumbnail,
                timeout=timeout,
                skip_holds=skip_holds,
                frames=frames,
                format=format,
            )
    finally:
        return_free_memory()  # a worker between jobs holds only what it uses


@contextmanager
def _memory_running_out(
    deck: Deck, output: Output, compositor: str, encoder_threads: int | None, what: str
) -> Iterator[None]:
    """An allocation failure inside the block, wherever it happened, as InsufficientResourcesError."""
    try:
        yield
    except _AS_THEY_ARE:
        raise
    except Exception as exc:
        if not allocation_failure(exc):
            raise
        need = space = 0  # not measured (a still): the message gives the limit alone
        try:
            if what == "render":
                need, space = _memory_needs(output, compositor, deck_timeline(deck, output), encoder_threads)
        except Exception:  # noqa: BLE001, S110 - the figures are a courtesy
            pass
        what = f"a {output.width}x{output.height} {what}"
        raise InsufficientResourcesError(memory_shortage_message(what, need, space, exc)) from exc


def _render_output(
    deck: Deck,
    output: Output,
    target: Path,
    *,
    compositor,
    encoder,
    on_progress,
    encoder_threads,
    temp_tag,
    thumbnail,
    timeout,
    skip_holds=True,
    frames=None,
    format="mp4",
) -> RenderReport:
    started = time.perf_counter()
    target = Path(target)
    timeline = deck_timeline(deck, output)
    span = range(timeline.frame_count) if frames is None else chunk_span(frames, timeline.frame_count, output.gop)
    chunk = frames is not None
    container = container_for(format)
    if chunk and not container.chunks:
        raise SpecError(f"{container.name} is not rendered in chunks; render it whole", "frames")
    total = len(span)
    check_resources(output, total / output.fps, target)  # makes the folder, or says why it cannot
    need, space = _memory_needs(output, compositor, timeline, encoder_threads)
    check_memory(f"a {output.width}x{output.height} render", need, space)
    deadline = None if timeout is None else _Deadline(timeout, output.label, total)
    audio_plan = None if chunk else deck.audio_plan(output.fps)
    if audio_plan is not None:
        audio_plan.check()  # a bad audio file fails now, not after the video is made

    fallbacks: list[str] = []
    enc = open_encoder(encoder, EncodeSettings.from_output(output, encoder_threads, skip_holds), fallbacks, format)
    producer = _FrameProducer(deck, output, timeline, compositor, fallbacks, span)
    clock = StageClock()
    process = psutil.Process()
    peak_rss = process.memory_info().rss
    frames_done = 0
    # Luma of a few composited keyframes, to compare with the decoded file afterwards.
    # (Frame numbers from here on count from the chunk's start: 0 for a whole video.)
    samples = sample_points(total, output.gop) if container.verify else []
    luma_size = output.width * output.height
    cover_seconds = min(deck.cover_seconds(), timeline.duration)
    cover_pts = -1 if chunk else min(timeline.frame_at(cover_seconds), timeline.frame_count - 1)
    # The cover frame's PNG: the MP4's cover art, or the thumbnail of a format without any.
    wants_cover = not chunk and (container.cover or thumbnail)
    cover: Background[bytes] | None = None

    with atomic_output(target, temp_tag) as temporary, ExitStack() as scope:
        # The keyframes' luma and the cover frame wait for the end on disk, not in memory.
        stash = scope.enter_context(_FrameStash.beside(temporary))
        soundtrack = None
        if audio_plan is not None and container.audio is not None:
            from .audio import soundtrack_in_background

            # The soundtrack needs only the video's length: it is mixed and encoded on
            # its own thread while the frames are made, and muxed in at the end.
            soundtrack = scope.enter_context(
                soundtrack_in_background(audio_plan, total / output.fps, temporary, container=container.name)
            )
        producer.start()  # (its first frame is composited while the encoder opens)
        try:
            with clock("open_encoder"):
                enc.open(temporary)
            if on_progress is not None:  # the file exists now: whoever stops the render has a partial file to remove
                on_progress(RenderProgress(output.label, 0, total, time.perf_counter() - started))
            sampled = time.perf_counter()
            for item in producer.frames(deadline):
                for pts in samples:
                    if item.first_pts <= pts < item.first_pts + item.count:
                        stash.put(pts, item.buffer[:luma_size])
                if wants_cover and item.first_pts <= cover_pts < item.first_pts + item.count:
                    stash.put("cover", item.buffer)
                with clock("encode"):
                    if deadline is None:
                        enc.encode_repeated(item.buffer, item.first_pts, item.count)
                    else:  # a long hold, a second at a time, so the limit is kept to within one
                        for first in range(0, item.count, output.fps):
                            deadline.check()
                            enc.encode_repeated(
                                item.buffer, item.first_pts + first, min(output.fps, item.count - first)
                            )
                producer.recycle(item.buffer)
                frames_done += item.count
                if deadline is not None:
                    deadline.frames_done = frames_done
                if time.perf_counter() - sampled > _RSS_EVERY:
                    peak_rss, sampled = max(peak_rss, process.memory_info().rss), time.perf_counter()
                if on_progress is not None:
                    on_progress(RenderProgress(output.label, frames_done, total, time.perf_counter() - started))
            with clock("finish"):
                stats = enc.close()
            if deadline is not None:
                deadline.check()
        except BaseException:
            producer.cancel()
            enc.abort()
            raise
        finally:
            producer.join()
        # A closed encoder still holds its frames until its object goes (x264: ~560 MB
        # at 4K, ~180 MB at 1080p): let it go before verifying, muxing sound and the cover.
        del enc
        # Checked before the rename, so a file that fails them never appears.
        if stats.frames != total:
            raise RenderError(f"encoded {stats.frames} frames, the timeline has {total}")
        if "cover" in stash:
            # Its PNG is made on a thread while the keyframes are checked and the sound
            # is muxed: off the render's tail, and after the encoder's frames are gone,
            # so it adds nothing to the peak (started in the loop, it added 7 MB at 1080p).
            cover = scope.enter_context(cover_in_background(stash.get("cover"), output.width, output.height))
        with clock("verify"):
            per_keyframe: dict[int, float] = {}
            kept = {pts: stash.get(pts).reshape(output.height, output.width) for pts in samples if pts in stash}
            psnr, ssim = luma_quality(temporary, kept, output.fps, per_keyframe)
            del kept
        audio = None
        if audio_plan is not None and container.audio is None:
            producer.warnings.append(f"{container.name} has no sound: the deck's audio is left out")
        elif soundtrack is not None:
            from .audio import mux_soundtrack

            with clock("audio"):  # what the soundtrack's thread has left to do, and the mux
                encoded = soundtrack.result()
                audio = mux_soundtrack(temporary, encoded, temporary)
            clock.seconds["soundtrack"] += encoded.seconds_taken
        if not chunk and container.cover:
            if cover is None:  # cover_pts is a frame of the timeline, and every frame was encoded
                raise RenderError(f"frame {cover_pts}, the cover, never came from the compositor")
            with clock("cover"):  # the wait for the PNG's thread (normally done by now) and the attach
                attach_cover(temporary, cover.result(), output.width, output.height)
        cues = [] if chunk else caption_cues(deck, timeline)
        if cues and deck.captions is not None and deck.captions.soft and target.suffix.lower() in _SOFT_TRACK_FILES:
            with clock("captions"):
                mux_soft_track(temporary, cues, deck.captions.language)
        if deadline is not None:  # the last moment the render can still be given up whole
            deadline.check()
    thumbnail_file = None
    if thumbnail and not chunk and not container.cover and cover is not None:  # no cover art: the composited frame
        thumbnail_file = thumbnail_path(target)
        with atomic_output(thumbnail_file, temp_tag) as temporary:
            temporary.write_bytes(cover.result())
    elif thumbnail and not chunk:
        thumbnail_file = write_thumbnail(target, cover_pts / output.fps, temp_tag)
    if cues and (deck.captions is None or deck.captions.sidecar):
        write_sidecars(target, cues, temp_tag)

    stages = dict(producer.clock.seconds)
    stages.update(clock.seconds)
    return RenderReport(
        path=str(target),
        platform=output.platform,
        quality=output.quality,
        width=output.width,
        height=output.height,
        fps=output.fps,
        frames=total,
        duration=total / output.fps,
        compositor=producer.compositor_kind,
        renderer=producer.renderer,
        encoder=stats.encoder,
        holds=stats.holds,
        holds_reason=stats.holds_reason,
        coded_frames=stats.coded_frames,
        wall_seconds=time.perf_counter() - started,
        stage_seconds=stages,
        peak_rss_mb=max(peak_rss, process.memory_info().rss) / 2**20,
        fallbacks=fallbacks,
        slides_uploaded=producer.slides_uploaded,
        composited_frames=producer.composited,
        psnr_db=psnr,
        ssim=ssim,
        warnings=list(producer.warnings),
        audio=None if audio is None else audio.summary(),
        bytes=target.stat().st_size,
        cover_seconds=None if chunk else round(cover_pts / output.fps, 4),
        frame_range=None if frames is None else [span.start, span.stop],
        keyframe_psnr=keyframe_psnr({span.start + pts: db for pts, db in per_keyframe.items()}),
        thumbnail=None if thumbnail_file is None else str(thumbnail_file),
        deck_sha256=deck_sha256(deck),
        **written_profile(target),
    )


def render_still_nv12(deck: Deck, output: Output, seconds: float, *, compositor: str = "auto") -> np.ndarray:
    """The NV12 frame the video shows at `seconds`, composited exactly as a render would."""
    source = FrameSource(deck, output, compositor=compositor)
    try:
        if not 0 <= seconds < source.timeline.duration:  # also refuses NaN
            raise SpecError(f"{seconds:g} s is outside the video (0 to {source.timeline.duration:g} s)", "at")
        return source.frame(source.timeline.frame_at(seconds))
    finally:
        source.close()


def render_still(deck: Deck, output: Output, seconds: float, *, compositor: str = "auto") -> np.ndarray:
    """The frame at `seconds` as an H×W×3 uint8 sRGB array (what a decoder shows)."""
    with _memory_running_out(deck, output, compositor, None, "still"):
        return nv12_to_rgb(render_still_nv12(deck, output, seconds, compositor=compositor), output.width, output.height)
