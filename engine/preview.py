"""`reel preview`: a window that plays a deck, drawn by the render's own compositor.

Three parts, each on its own thread of concern:

- `_Frames`: one worker thread that owns a `frames.FrameSource` (so a GL compositor's
  context stays current on the thread that made it) and hands back frames as sRGB,
  converted from the very NV12 buffer a render would encode (`cover.nv12_to_rgb_banded`,
  which is `colour.nv12_to_rgb` by bands: the window shows what `reel still` writes).
- `_Window`: the glfw window and its own moderngl context (main thread): one texture on
  one quad, 1:1 pixels when the output fits the screen, scaled down otherwise.
- `Preview`: the state (deck, platform, position, playing) and what each key does;
  it polls the deck file and its assets 4 times a second and reloads at the same time
  position; a deck that fails to load is shown as a red banner and said on stderr, and
  the last good deck keeps playing.

Playback keeps time: the frame shown is the one due now, so a renderer too slow for the
frame rate (software GL, the numpy compositor, a big frame) skips frames, and the title
bar and the terminal (once) say what rate it reached.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .cover import nv12_to_rgb_banded
from .errors import BackendUnavailableError, EngineError
from .frames import FrameSource
from .output import atomic_output
from .platforms import PLATFORMS, Output, resolve_output
from .spec import Deck, load_deck

__all__ = ["Preview", "no_display_reason", "run_preview"]

log = logging.getLogger(__name__)

_POLL_FILES = 0.25  # seconds between looks at the deck's files
_IDLE_WAIT = 0.05  # seconds the window sleeps for events when nothing plays
_MARGIN = 80  # screen pixels left for the title bar and panels when fitting the window
_SLOW = 0.9  # playing below this share of the frame rate is said once

_VERTEX = """
#version 330
in vec2 corner;
out vec2 uv;
void main() {
    uv = vec2(corner.x * 0.5 + 0.5, 0.5 - corner.y * 0.5);  // row 0 of the image is the top
    gl_Position = vec4(corner, 0.0, 1.0);
}
"""
_FRAGMENT = """
#version 330
uniform sampler2D image;
in vec2 uv;
out vec4 colour;
void main() { colour = vec4(texture(image, uv).rgb, 1.0); }
"""


def no_display_reason() -> str | None:
    """Why no window can open here (no X or Wayland display named), or None."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display to open the preview window on (DISPLAY and WAYLAND_DISPLAY are unset)"
    return None


def _no_display(reason: str, deck_file: Path) -> BackendUnavailableError:
    return BackendUnavailableError(f"{reason}; render a draft instead: reel render {deck_file} --quality draft")


@dataclass
class _Shown:
    """A frame on screen: which deck load it came from, its number and its pixels."""

    generation: int
    frame: int
    rgb: np.ndarray


class _Frames:
    """Frames of one deck at one output, made on one worker thread (see the module doc)."""

    def __init__(self, compositor: str) -> None:
        self.compositor = compositor
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reel-preview")
        self._source: FrameSource | None = None

    def open(self, deck: Deck, output: Output) -> FrameSource:
        """Start a source for `deck` at `output`, closing the one before only once this one runs."""
        source = self._worker.submit(FrameSource, deck, output, compositor=self.compositor).result()
        if self._source is not None:
            self._worker.submit(self._source.close).result()
        self._source = source
        return source

    def request(self, frame: int) -> Future:
        source = self._source
        if source is None:
            raise RuntimeError("no deck is open")
        output = source.output
        return self._worker.submit(lambda: nv12_to_rgb_banded(source.frame(frame), output.width, output.height))

    def close(self) -> None:
        if self._source is not None:
            self._worker.submit(self._source.close).result()
            self._source = None
        self._worker.shutdown()


class _Window:
    """The glfw window, its moderngl context, and the quad the frame is drawn on."""

    def __init__(self, title: str, width: int, height: int, on_key) -> None:
        import glfw
        import moderngl

        self._glfw = glfw
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
        glfw.window_hint(glfw.RESIZABLE, True)
        self.size = self._fit(width, height)
        self.handle = glfw.create_window(*self.size, title, None, None)
        if not self.handle:
            raise BackendUnavailableError("glfw could not open a window with OpenGL 3.3 here")
        glfw.make_context_current(self.handle)
        glfw.swap_interval(0)  # playback keeps its own time; never wait on the monitor
        self.ctx = moderngl.create_context()
        self.renderer = self.ctx.info["GL_RENDERER"]
        program = self.ctx.program(vertex_shader=_VERTEX, fragment_shader=_FRAGMENT)
        corners = np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4")
        self._quad = self.ctx.vertex_array(program, [(self.ctx.buffer(corners.tobytes()), "2f", "corner")])
        self._texture: Any = None  # a moderngl.Texture once a frame is drawn
        self.drawn: tuple | None = None  # what is on screen: (frame, error, title, window size)
        glfw.set_window_refresh_callback(self.handle, lambda _w: setattr(self, "drawn", None))
        glfw.set_key_callback(self.handle, lambda _w, key, _sc, action, mods: on_key(key, action, mods))

    def _fit(self, width: int, height: int) -> tuple[int, int]:
        """`width`×`height` if the screen holds it, else scaled down to fit (aspect kept)."""
        glfw = self._glfw
        monitor = glfw.get_primary_monitor()
        if not monitor:
            return width, height
        _, _, screen_w, screen_h = glfw.get_monitor_workarea(monitor)
        scale = min(1.0, screen_w / width, max(1, screen_h - _MARGIN) / height)
        return max(1, round(width * scale)), max(1, round(height * scale))

    def resize_for(self, width: int, height: int) -> None:
        self.size = self._fit(width, height)
        self._glfw.set_window_size(self.handle, *self.size)

    def draw(self, rgb: np.ndarray) -> None:
        """Draw `rgb` over the whole window and show it."""
        import moderngl

        height, width = rgb.shape[:2]
        if self._texture is None or self._texture.size != (width, height):
            if self._texture is not None:
                self._texture.release()
            self._texture = self.ctx.texture((width, height), 3, alignment=1)
        self._texture.write(np.ascontiguousarray(rgb))
        framebuffer = self.framebuffer_size()
        # 1:1 pixels show as they are; a window scaled down averages them.
        scaled = framebuffer != (width, height)
        self._texture.filter = (moderngl.LINEAR, moderngl.LINEAR) if scaled else (moderngl.NEAREST, moderngl.NEAREST)
        self.ctx.screen.use()
        self.ctx.viewport = (0, 0, *framebuffer)
        self._texture.use(0)
        self._quad.render(mode=moderngl.TRIANGLE_STRIP)
        self._glfw.swap_buffers(self.handle)

    def framebuffer_size(self) -> tuple[int, int]:
        width, height = self._glfw.get_framebuffer_size(self.handle)
        return width, height

    def set_title(self, title: str) -> None:
        self._glfw.set_window_title(self.handle, title)

    def close(self) -> None:
        self._glfw.destroy_window(self.handle)


def _banner(rgb: np.ndarray, message: str) -> np.ndarray:
    """`rgb` with `message` on a red band across its top (a deck that failed to reload)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.fromarray(rgb)
    size = max(10, rgb.shape[0] // 30)
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(image)
    words, lines, line = message.split(), [], ""
    for word in words:  # wrap to the frame's width
        if line and draw.textlength(f"{line} {word}", font=font) > rgb.shape[1] - 2 * size:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines = [*lines, line][:4]
    draw.rectangle((0, 0, rgb.shape[1], size * (len(lines) + 1)), fill=(200, 0, 0))
    for row, text in enumerate(lines):
        draw.text((size, size // 2 + row * size), text, fill=(255, 255, 255), font=font)
    return np.asarray(image)


class Preview:
    """A deck playing in a window: its state and what each key does."""

    def __init__(self, deck_file: Path, platform: str, quality: str, compositor: str) -> None:
        self.deck_file = Path(deck_file)
        self.quality = quality
        names = list(PLATFORMS)
        self.platforms = names if platform in names else [platform, *names]
        self.platform = self.platforms.index(platform)
        self.frames = _Frames(compositor)
        self.deck = load_deck(self.deck_file)  # a deck that does not load fails here, before a window
        self.output = resolve_output(platform, quality)
        self.source = self.frames.open(self.deck, self.output)
        self.generation = 0
        self.position = 0  # the frame wanted on screen
        self.playing = False
        self.error: str | None = None
        self.shown: _Shown | None = None
        self._pending: tuple[int, int, Future] | None = None
        self._failed: tuple[int, int] | None = None  # the frame that raised, not asked for again
        self._clock: tuple[float, int] | None = None  # (monotonic time, frame) playback started at
        self._rate: tuple[float, int] = (0.0, 0)  # (since, frames shown) for the measured rate
        self.fps_reached: float | None = None
        self._said_slow = False
        self._mtimes = self._file_times()
        self._next_poll = time.monotonic() + _POLL_FILES
        self.window: _Window | None = None

    # -- files -------------------------------------------------------------------

    def _files(self) -> list[Path]:
        return [self.deck_file, *(path for _, path, _ in self.deck.asset_files())]

    def _file_times(self) -> dict[Path, float | None]:
        times: dict[Path, float | None] = {}
        for path in self._files():
            try:
                times[path] = path.stat().st_mtime_ns
            except OSError:
                times[path] = None
        return times

    def poll_files(self) -> None:
        """Reload when the deck or one of its files changed since the last look."""
        times = {path: self._mtime(path) for path in self._mtimes}
        if times != self._mtimes:
            self._mtimes = times
            self.reload()

    @staticmethod
    def _mtime(path: Path) -> float | None:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return None

    def reload(self, output: Output | None = None) -> None:
        """Load the deck again (and/or lay it out for `output`), keeping the time position."""
        seconds = self.position / self.output.fps
        try:
            deck = load_deck(self.deck_file)
            output = output or resolve_output(self.platforms[self.platform], self.quality)
            source = self.frames.open(deck, output)
        except EngineError as exc:
            self._report(exc, "showing the last good deck")
            self._mtimes = self._file_times()  # the files the failed deck named are not known; keep watching these
            return
        resized = output.size != self.output.size
        self.deck, self.output, self.source = deck, output, source
        self.generation += 1
        self.position = source.timeline.frame_at(seconds)
        if self._clock is not None:
            self._clock = (time.monotonic(), self.position)
        self._mtimes = self._file_times()
        what = f"laid out for {output.label}" if resized else "fixed, reloaded" if self.error else "reloaded"
        print(f"reel: preview: {self.deck_file.name}: {what} at {seconds:.2f} s", file=sys.stderr)
        self.error = None
        if resized and self.window is not None:
            self.window.resize_for(output.width, output.height)

    def _report(self, exc: EngineError, then: str) -> None:
        """Say a deck error on stderr (once for the same message) and on the window."""
        message = " ".join(str(exc).split())
        if message != self.error:
            print(f"reel: preview: {self.deck_file.name}: error: {message} ({then})", file=sys.stderr)
        self.error = message

    # -- keys --------------------------------------------------------------------

    def on_key(self, key: int, action: int, mods: int) -> None:
        import glfw

        if action not in (glfw.PRESS, glfw.REPEAT):
            return
        last = self.source.timeline.frame_count - 1
        slide_jump = bool(mods & glfw.MOD_SHIFT)
        if key == glfw.KEY_SPACE and action == glfw.PRESS:
            self.play(not self.playing)
        elif key in (glfw.KEY_RIGHT, glfw.KEY_LEFT):
            self.play(False)
            step = 1 if key == glfw.KEY_RIGHT else -1
            self.position = self._slide_step(step) if slide_jump else min(max(self.position + step, 0), last)
        elif key == glfw.KEY_HOME:
            self.position = 0
            self._restart_clock()
        elif key == glfw.KEY_END:
            self.play(False)
            self.position = last
        elif key == glfw.KEY_P and action == glfw.PRESS:
            self.platform = (self.platform + 1) % len(self.platforms)
            self.reload(resolve_output(self.platforms[self.platform], self.quality))
        elif key == glfw.KEY_S and action == glfw.PRESS:
            self.save()
        elif key in (glfw.KEY_ESCAPE, glfw.KEY_Q) and self.window is not None:
            glfw.set_window_should_close(self.window.handle, True)

    def _slide_step(self, step: int) -> int:
        """The first frame of the next slide (`step` 1) or of this/the previous one (-1)."""
        timeline = self.source.timeline
        starts = sorted({timeline.first_frame(i) for i in range(len(timeline.slide_starts))})
        if step > 0:
            return next((s for s in starts if s > self.position), timeline.frame_count - 1)
        return next((s for s in reversed(starts) if s < self.position), 0)

    def play(self, playing: bool) -> None:
        if playing and self.position >= self.source.timeline.frame_count - 1:
            self.position = 0  # play again from the start
        self.playing = playing
        self._clock = None
        self._restart_clock()

    def _restart_clock(self) -> None:
        if self.playing:
            self._clock = (time.monotonic(), self.position)
            self._rate = (time.monotonic(), 0)

    def save(self) -> Path | None:
        """Write the frame on screen (without any error banner) as a PNG in the current folder."""
        if self.shown is None:
            return None
        from PIL import Image

        seconds = self.shown.frame / self.output.fps
        target = Path.cwd() / f"{self.deck_file.stem}-{self.output.label}-{seconds:.2f}s.png"
        with atomic_output(target) as temporary, Image.fromarray(self.shown.rgb) as image:
            image.save(temporary, format="PNG")
        print(f"reel: preview: saved frame {self.shown.frame} ({seconds:.2f} s) to {target}", file=sys.stderr)
        return target

    # -- the loop ----------------------------------------------------------------

    def title(self) -> str:
        timeline, fps = self.source.timeline, self.output.fps
        frame = self.position if self.shown is None else self.shown.frame
        where = f"{frame / fps:.2f} s / {timeline.duration:.1f} s, frame {frame}/{timeline.frame_count}"
        parts = [f"{self.deck_file.stem} — {where} — {self.output.label}"]
        if self.playing and self.fps_reached is not None and self.fps_reached < _SLOW * fps:
            parts.append(f"{self.fps_reached:.1f} of {fps} fps ({self._renderer()})")
        elif not self.playing:
            parts.append("paused")
        if self.error is not None:
            parts.append("DECK ERROR, showing the last good deck")
        return " — ".join(parts)

    def _renderer(self) -> str:
        compositor = self.source.compositor
        return "numpy compositor" if compositor.kind == "cpu" else compositor.renderer

    def step(self) -> None:
        """One turn of the loop: files, the playback clock, the frame in flight, the window."""
        now = time.monotonic()
        if now >= self._next_poll:
            self._next_poll = now + _POLL_FILES
            self.poll_files()
        last = self.source.timeline.frame_count - 1
        if self.playing and self._clock is not None:
            started, first = self._clock
            self.position = min(first + int((now - started) * self.output.fps), last)
        pending = self._pending
        if pending is not None and pending[2].done():
            self._pending = None
            generation, frame, future = pending
            if generation == self.generation:
                try:
                    self.shown = _Shown(generation, frame, future.result())
                except EngineError as exc:  # the deck loaded, but this frame cannot be made
                    self._failed = (generation, frame)
                    self._report(exc, "until the deck is fixed")
                else:
                    self._count_rate(now)
        shown = self.shown
        wanted = (self.generation, self.position)
        drawn = None if shown is None else (shown.generation, shown.frame)
        if self._pending is None and wanted not in (drawn, self._failed):
            self._pending = (self.generation, self.position, self.frames.request(self.position))
        if self.playing and self.shown is not None and self.shown.frame >= last and self._pending is None:
            self.playing = False  # the end: stay on the last frame
        window = self.window
        if window is not None and (self.shown is not None or self.error is not None):
            title = self.title()
            now_drawn = (id(self.shown), self.error, title, window.framebuffer_size())
            if now_drawn != window.drawn:
                rgb = np.zeros((self.output.height, self.output.width, 3), np.uint8) if shown is None else shown.rgb
                window.draw(rgb if self.error is None else _banner(rgb, self.error))
                window.set_title(title)
                window.drawn = now_drawn

    def _count_rate(self, now: float) -> None:
        if not self.playing:
            return
        since, count = self._rate
        count += 1
        self._rate = (since, count)
        if now - since >= 1.0:
            self.fps_reached = count / (now - since)
            self._rate = (now, 0)
            if self.fps_reached < _SLOW * self.output.fps and not self._said_slow:
                self._said_slow = True
                print(
                    f"reel: preview: {self._renderer()} reaches {self.fps_reached:.1f} of {self.output.fps} fps "
                    f"at {self.output.width}x{self.output.height}; playback keeps time by skipping frames",
                    file=sys.stderr,
                )

    def run(self) -> None:
        import glfw

        self.window = _Window(self.title(), self.output.width, self.output.height, self.on_key)
        print(
            f"reel: preview: {self.deck_file.name} at {self.output.width}x{self.output.height} {self.output.fps} fps "
            f"({self.output.label}), composited by {self._renderer()}, shown by {self.window.renderer}; "
            "keys: space play/pause, ←/→ frame (shift: slide), Home/End, p platform, s save PNG, q quit",
            file=sys.stderr,
        )
        try:
            while not glfw.window_should_close(self.window.handle):
                if self.playing or self._pending is not None:
                    glfw.poll_events()
                    if self._pending is not None and not self._pending[2].done():
                        time.sleep(0.002)
                else:
                    glfw.wait_events_timeout(_IDLE_WAIT)
                self.step()
        finally:
            self.window.close()

    def close(self) -> None:
        self.frames.close()


def run_preview(
    deck_file: str | Path, platform: str = "youtube", quality: str = "standard", compositor: str = "auto"
) -> None:
    """Open the preview window on `deck_file` and play it until the window is closed.

    Raises `BackendUnavailableError` (one line, with how to render a draft instead)
    where no window can open: no display, or glfw cannot start.
    """
    deck_file = Path(deck_file)
    reason = no_display_reason()
    if reason is not None:
        raise _no_display(reason, deck_file)
    import glfw

    glfw.ERROR_REPORTING = "ignore"  # a display glfw cannot open is said in one line, below
    if not glfw.init():
        raise _no_display("glfw could not open the display", deck_file)
    try:
        preview = Preview(deck_file, platform, quality, compositor)
        try:
            preview.run()
        finally:
            preview.close()
    finally:
        glfw.terminate()
