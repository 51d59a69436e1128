"""The OpenGL compositor: moderngl on a headless EGL context.

Each slide is uploaded as an RGB(A) texture once, converted by
``shaders/rgb_to_yuv.frag`` into a Y texture (R8, W×H) and a CbCr texture (RG8,
W/2×H/2), and the RGB texture is dropped. A transition frame runs the transition's
shader twice, once per plane, into the compositor's own Y and CbCr targets; a hold
renders nothing and reads the slide's planes directly. Readback is NV12 at 1.5 bytes
per pixel.

A user transition file runs in RGB (``keep_rgb``): slides keep their RGB texture, and a
slide in motion keeps its layers in RGB too, drawn by ``shaders/motion.frag`` into an
RGBA target for each frame of the transition; the file's frame is then converted to
the planes as an upload is.

A user file's loops run as long as it says, and one draw is one GL call that does not
return to Python until it is done (moderngl holds the GIL through it, so no Python
thread can even notice). So a file's first frame is *probed* before it is drawn whole:
drawn on a 1×1 viewport (which also pays llvmpipe's compile), then on 16×16 and 128×128
ones, each timed to glFinish, and the time of a whole frame extrapolated from them; a
file whose frame would take more than `frame_budget` seconds is refused before its
first full frame (RenderTimeoutError). Every frame of a user file is timed as well and
refused past the budget. A draw that never returns at all (a loop without end) can only
be ended by killing the process: the job supervisor does, when a worker stops sending
frames.

On an NVIDIA machine the context is made on the CUDA-capable EGL device; elsewhere on
whatever EGL offers, usually Mesa's llvmpipe (``kind`` says "gl-software"). moderngl is
imported only here, and only when a compositor is made.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..colour import KB, KR, nv12_to_rgb
from ..errors import BackendUnavailableError, RenderError, RenderTimeoutError, SpecError
from ..resources import shader_source
from ..usershader import RESIZE_KEY, RESIZE_MODES, read_user_transition, user_transition_file
from ._egl import preferred_device_index
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
from .layers import PlaneStep, plan_layers
from .planes import LayerPlanes, LayerRGB, prepare_layers, prepare_rgb_layers

__all__ = ["GLCompositor", "bt709_rows"]

log = logging.getLogger(__name__)

_SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast")
# Seconds one frame of a user transition file may take. A heavy file at 4K on llvmpipe
# takes about one; ten is far from any file written to be watched.
FRAME_BUDGET = 10.0
# The probe's viewports, after a 1×1 warm-up: a single llvmpipe tile, then 16 of them
# (64×64 each), enough to keep every rasterizer thread of a large machine busy.
_PROBES = (16, 128)
# A probe shorter than this says nothing: fixed costs of a draw dominate it.
_PROBE_MEANINGFUL_S = 0.05
_INSTALL_HINT = "install libegl1 and libgl1 (Mesa) for software rendering, or use the cpu compositor"


def bt709_rows() -> np.ndarray:
    """The RGB → (E'Y, E'Cb, E'Cr) matrix as float32, written as engine.colour writes it."""
    kg = 1.0 - KR - KB
    rows = [
        [KR, kg, KB],
        [-KR / (2 * (1 - KB)), -kg / (2 * (1 - KB)), 0.5],
        [0.5, -kg / (2 * (1 - KR)), -KB / (2 * (1 - KR))],
    ]
    return np.array(rows, dtype=np.float64).astype(np.float32)


def _rasterizer_threads() -> int:
    """Threads llvmpipe rasterizes with: LP_NUM_THREADS, else one per core."""
    import os

    from .._host import usable_cores

    value = os.environ.get("LP_NUM_THREADS", "")
    return max(1, int(value)) if value.isdigit() else max(1, usable_cores())


def _create_context():
    """A core-profile 3.3+ standalone EGL context, preferring an NVIDIA device."""
    try:
        import moderngl
    except Exception as exc:  # ImportError, or a broken binary wheel
        raise BackendUnavailableError(f"moderngl cannot be imported ({exc}); pip install moderngl") from exc
    index = preferred_device_index()
    # The preferred device first; if it will not make a context, EGL's default.
    attempts = [{"device_index": index}, {}] if index is not None else [{}]
    failure: Exception | None = None
    for kwargs in attempts:
        try:
            return moderngl.create_standalone_context(backend="egl", require=330, **kwargs)
        except Exception as exc:  # noqa: BLE001 - glcontext raises plain Exceptions with EGL's reason
            log.info("EGL context %s failed: %s", kwargs or "(default device)", exc)
            failure = exc
    raise BackendUnavailableError(f"no EGL context ({failure}); {_INSTALL_HINT}") from failure


@dataclass
class _Slide:
    handle: SlideHandle
    y: Any  # moderngl.Texture, R8 W×H
    uv: Any  # moderngl.Texture, RG8 W/2×H/2
    y_fbo: Any
    uv_fbo: Any
    rgb: Any = None  # the RGB texture, kept only for user transition files (keep_rgb)


@dataclass
class _Layered:
    """A slide in motion: its layers as textures, per plane (engine.composite.planes)."""

    handle: SlideHandle
    back_size: tuple[int, int]
    region: tuple[int, int, int, int]
    count: int  # build items
    textures: list[dict[str, Any]]  # per plane (Y, CbCr): sampler name → texture
    rgb: dict[str, Any] | None = None  # the layers in RGB, kept only for user transition files (keep_rgb)


@dataclass
class _Program:
    program: Any
    vao: Any


class GLCompositor:
    """Compositor on OpenGL 3.3 core through EGL: a GPU when there is one, else llvmpipe."""

    name = "gl"

    def __init__(
        self,
        width: int,
        height: int,
        keep_rgb: bool = False,
        readback: str = "auto",
        frame_budget: float = FRAME_BUDGET,
    ) -> None:
        check_size(width, height)
        self.frame_budget = frame_budget  # seconds a frame of a user transition file may take
        self._probed: set[tuple] = set()  # (file, its parameters) whose frame time was probed
        if readback not in ("auto", "direct", "pbo"):
            raise ValueError(f"readback must be auto, direct or pbo, got {readback!r}")
        self.width, self.height = width, height
        # User gl-transitions files run in RGB, so slides keep their RGB texture (or RGB layers) too.
        self.keep_rgb = keep_rgb
        self._user_programs: dict[Path, _Program] = {}
        self._images: dict[Any, Any] = {}  # image parameters: of user files by path, of built-ins by ("matte", value)
        self._rgb_target: tuple[Any, Any] | None = None  # (texture, framebuffer), made on first use
        self._closed = True  # until the context exists, close() has nothing to free
        self._ctx = _create_context()
        self._closed = False
        self._slides: dict[str, _Slide | _Layered] = {}
        self._programs: dict[str, _Program] = {}
        self._moving: list[_Slide] = []  # two targets for slides in motion, made on first use
        self._moving_rgb: list[tuple[Any, Any]] = []  # the same in RGB, for user files: (texture, framebuffer)
        self._uploads = 0  # handle indices stay unique after releases
        self._current: tuple[Any, Any] | None = None  # (Y framebuffer, CbCr framebuffer)
        try:
            with self._ctx:
                self.renderer = self._ctx.info["GL_RENDERER"]
                software = any(name in self.renderer.lower() for name in _SOFTWARE_RENDERERS)
                self.kind = "gl-software" if software else "gl-gpu"
                self._convert = self._compile(shader_source("rgb_to_yuv.frag"))
                rows = bt709_rows()
                for uniform, row in zip(("ky", "kcb", "kcr"), rows):
                    self._convert.program[uniform].value = tuple(float(v) for v in row)
                self._convert.program["rgb"].value = 0
                *self._out_planes, self._out = self._planes()  # the transition frame's targets
                # "pbo": frames come back through two pixel buffers used in turn, so a
                # GPU's copy into one never waits on the other still being read. On
                # llvmpipe a direct read is 1-2 ms faster a 1080p frame, so "auto"
                # uses buffers on a GPU only.
                self.readback = readback if readback != "auto" else ("pbo" if self.kind == "gl-gpu" else "direct")
                self._pbos = []
                if self.readback == "pbo":
                    size = width * height * 3 // 2
                    self._pbos = [self._ctx.buffer(reserve=size) for _ in range(2)]
                self._pbo_turn = 0
        except Exception as exc:
            self.close()
            raise BackendUnavailableError(f"the GL compositor could not set up its shaders and targets: {exc}") from exc
        log.info("GL compositor %d×%d on %s (%s)", width, height, self.renderer, self.kind)

    @property
    def ctx(self):
        """The moderngl context (for diagnostics and tests: GL errors, limits)."""
        return self._ctx

    # --- protocol ---------------------------------------------------------------------

    def upload(self, key: str, image: np.ndarray) -> SlideHandle:
        self._check_open()
        if key in self._slides:
            return self._slides[key].handle
        image = check_image(image, self.width, self.height)
        with self._ctx:
            y, uv, (y_fbo, uv_fbo) = self._planes()
            rgb = self._ctx.texture((self.width, self.height), image.shape[2], data=image, alignment=1)
            try:
                rgb.use(0)
                for plane, fbo in enumerate((y_fbo, uv_fbo)):
                    fbo.use()
                    self._convert.program["plane"].value = plane
                    self._convert.vao.render(vertices=3)
            finally:
                if not self.keep_rgb:
                    rgb.release()  # only the YUV planes are kept
        self._uploads += 1
        slide = _Slide(SlideHandle(key, self._uploads), y, uv, y_fbo, uv_fbo, rgb if self.keep_rgb else None)
        self._slides[key] = slide
        return slide.handle

    def upload_nv12(self, key: str, nv12: np.ndarray) -> SlideHandle:
        self._check_open()
        if key in self._slides:
            return self._slides[key].handle
        nv12 = check_nv12(nv12, self.width, self.height)
        if self.keep_rgb:  # user transition files blend RGB textures
            return self.upload(key, nv12_to_rgb(nv12, self.width, self.height))
        luma = self.width * self.height
        with self._ctx:
            y, uv, (y_fbo, uv_fbo) = self._planes()
            y.write(nv12[:luma], alignment=1)
            uv.write(nv12[luma:], alignment=1)
        self._uploads += 1
        slide = _Slide(SlideHandle(key, self._uploads), y, uv, y_fbo, uv_fbo, None)
        self._slides[key] = slide
        return slide.handle

    def upload_layers(self, key: str, layers) -> SlideHandle:
        self._check_open()
        if key in self._slides:
            return self._slides[key].handle
        check_layers(layers, self.width, self.height)
        planes = prepare_layers(layers, self.width, self.height)
        rgb = prepare_rgb_layers(layers, self.width, self.height) if self.keep_rgb else None
        with self._ctx:
            textures = [_layer_textures(self._ctx, planes, plane) for plane in (0, 1)]
            rgb_textures = None if rgb is None else _rgb_layer_textures(self._ctx, rgb)
        self._uploads += 1
        # The textures hold the pixels now; the arrays go.
        slide = _Layered(
            SlideHandle(key, self._uploads), planes.back_size, planes.region, planes.count, textures, rgb_textures
        )
        self._slides[key] = slide
        return slide.handle

    def render(self, frame: FrameSpec) -> None:
        self._check_open()
        user_file = user_transition_file(frame.transition) if frame.target is not None else None
        if user_file is not None and frame.target is not None:
            # The file blends RGB: a slide's own texture, or a moving slide drawn in RGB now.
            source = self._rgb_picture(frame.source, frame.source_state, 0)
            target = self._rgb_picture(frame.target, frame.target_state, 1)
            self._render_user(source, target, user_file, frame)
            return
        source = self._picture(frame.source, frame.source_state, 0)
        step = plan_transition(frame)
        if step is None or frame.target is None:  # (no target: plan_transition said "a hold")
            self._current = (source.y_fbo, source.uv_fbo)  # a hold reads the slide itself
            return
        target = self._picture(frame.target, frame.target_state, 1)
        with self._ctx:
            shader = self._transition(step.name)
            program = shader.program
            _set_uniform(program, "progress", step.progress)
            _set_uniform(program, "ratio", self.width / self.height)  # the same on both planes
            passes = (
                (self._out[0], source.y, target.y, step.luma),
                (self._out[1], source.uv, target.uv, step.chroma),
            )
            for plane, (fbo, from_plane, to_plane, params) in enumerate(passes):
                fbo.use()
                from_plane.use(0)
                to_plane.use(1)
                unit = 2
                for key, value in params.items():
                    if isinstance(value, str):  # an image parameter: its texture at this plane's size
                        self._matte(value)[plane].use(unit)
                        value, unit = unit, unit + 1
                    _set_uniform(program, key, value)
                shader.vao.render(vertices=3)
        self._current = self._out

    def release(self, handle: SlideHandle) -> None:
        self._check_open()
        slide = self._slide(handle)
        del self._slides[handle.key]
        if isinstance(slide, _Layered):
            with self._ctx:
                for texture in (t for plane in [*slide.textures, slide.rgb or {}] for t in plane.values()):
                    texture.release()
            return
        if self._current == (slide.y_fbo, slide.uv_fbo):
            self._current = None
        with self._ctx:
            for gl_object in (slide.y_fbo, slide.uv_fbo, slide.y, slide.uv, slide.rgb):
                if gl_object is not None:
                    gl_object.release()

    def read_nv12(self, into: np.ndarray) -> None:
        self._check_open()
        check_into(into, self.width, self.height)
        if self._current is None:
            raise RenderError("read_nv12 called before any frame was rendered")
        y_fbo, uv_fbo = self._current
        with self._ctx:
            # alignment=1: rows of 1- and 2-byte texels at any width come back unpadded,
            # as one NV12 frame of 1.5 bytes a pixel.
            target: Any = into  # the caller's buffer, or a pixel buffer object read into it after
            if self._pbos:
                target = self._pbos[self._pbo_turn]
                self._pbo_turn ^= 1
            y_fbo.read_into(target, components=1, alignment=1)
            uv_fbo.read_into(target, components=2, alignment=1, write_offset=self.width * self.height)
            if target is not into:
                target.read_into(into)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._current = None
        # Releasing the context frees every object made on it.
        self._slides.clear()
        self._moving.clear()
        self._moving_rgb.clear()
        self._programs.clear()
        self._user_programs.clear()
        self._images.clear()
        self._rgb_target = None
        self._ctx.release()

    # --- slides in motion -----------------------------------------------------------------

    def _picture(self, handle: SlideHandle, state, slot: int) -> _Slide:
        """The slide's planes: its own, or its layers drawn in `state` into target `slot`."""
        slide = self._slide(handle)
        if not isinstance(slide, _Layered):
            return slide
        if state is None:
            raise ValueError(f"{handle.key} is a slide in motion: its frames need a MotionState")
        with self._ctx:
            if not self._moving:
                for _ in range(2):
                    y, uv, (y_fbo, uv_fbo) = self._planes()
                    self._moving.append(_Slide(handle, y, uv, y_fbo, uv_fbo))
            out = self._moving[slot]
            for fbo, textures, step in zip((out.y_fbo, out.uv_fbo), slide.textures, plan_layers(slide, state)):
                self._draw_layers(fbo, textures, step)
        return out

    def _rgb_picture(self, handle: SlideHandle, state, slot: int):
        """The slide as an RGB texture for a user file: its own, or its RGB layers drawn in `state`.

        None where the slide kept no RGB (a compositor made without keep_rgb).
        """
        slide = self._slide(handle)
        if not isinstance(slide, _Layered):
            return slide.rgb
        if slide.rgb is None:
            return None
        if state is None:
            raise ValueError(f"{handle.key} is a slide in motion: its frames need a MotionState")
        with self._ctx:
            while len(self._moving_rgb) <= slot:
                # Sampled by the file as a still slide's texture is: linear, repeating (the defaults).
                texture = self._ctx.texture((self.width, self.height), 4)
                self._moving_rgb.append((texture, self._ctx.framebuffer([texture])))
            texture, fbo = self._moving_rgb[slot]
            # Full size: the luma plane's numbers (engine.composite.layers.compose_rgb is the twin).
            self._draw_layers(fbo, slide.rgb, plan_layers(slide, state)[0])
        return texture

    def _draw_layers(self, fbo, textures: dict[str, Any], step: PlaneStep) -> None:
        """motion.frag: one plane (or the RGB frame) of a layered slide into `fbo`. Context current."""
        shader = self._motion_program()
        program = shader.program
        fbo.use()
        for unit, name in enumerate(_LAYER_SAMPLERS):
            # An absent layer is never read; its sampler still needs a texture of its kind.
            spare = self._spare_times() if name == "reveal_times" else textures["back"]
            textures.get(name, spare).use(unit)
        _set_uniform(program, "has_static", "static_colour" in textures)
        _set_uniform(program, "has_items", "item_colour" in textures)
        _set_uniform(program, "has_reveal", "reveal_times" in textures)
        _set_uniform(program, "reveal_threshold", step.reveal_threshold)
        _set_uniform(program, "reveal_opacity", step.reveal_opacity)
        _set_uniform(program, "back_map", tuple(float(v) for v in step.back_map))
        size = textures["back"].size
        at_rest = step.back_map == (1.0, 0.0, 1.0, 0.0) and size == (fbo.width, fbo.height)
        _set_uniform(program, "back_at_rest", at_rest)
        items = program.get("items", None)
        if items is not None:
            table = np.zeros((32, 3), dtype=np.float32)
            table[: len(step.items)] = step.items
            items.write(table.tobytes())
        shader.vao.render(vertices=3)

    def _spare_times(self):
        """A 1×1 integer texture for the reveal-times sampler of slides without a chart."""
        texture = self._images.get("<spare times>")
        if texture is None:
            texture = self._ctx.texture((1, 1), 1, data=np.zeros(1, np.uint16), dtype="u2")
            texture.filter = (self._ctx.NEAREST, self._ctx.NEAREST)
            self._images["<spare times>"] = texture
        return texture

    def _motion_program(self) -> _Program:
        shader = self._programs.get("<motion>")
        if shader is None:
            shader = self._compile(shader_source("motion.frag"))
            for unit, name in enumerate(_LAYER_SAMPLERS):
                _set_uniform(shader.program, name, unit)
            self._programs["<motion>"] = shader
        return shader

    # --- user gl-transitions files (RGB) -------------------------------------------------

    def _render_user(self, source, target, file: Path, frame: FrameSpec) -> None:
        """Run `file` on two RGB textures (`_rgb_picture`), then convert its frame to the planes."""
        if source is None or target is None:
            raise RenderError("a transition file needs the slides' RGB: make the compositor with keep_rgb=True")
        with self._ctx:
            shader = self._user_program(file)
            program = shader.program
            texture, fbo = self._rgb_frame()
            fbo.use()
            source.use(0)
            target.use(1)
            ratio = self.width / self.height
            for name, value in (
                ("progress", min(max(float(frame.progress), 0.0), 1.0)),
                ("ratio", ratio),
                ("_fromR", ratio),
                ("_toR", ratio),
                ("_reel_size", (self.width, self.height)),
            ):
                _set_uniform(program, name, value)
            unit = 2
            resize = frame.params.get(RESIZE_KEY, "stretch")
            for name, value in frame.params.items():
                if name == RESIZE_KEY:
                    continue
                if isinstance(value, str):  # a sampler2D parameter: an image file
                    self._image(value, resize).use(unit)
                    _set_uniform(program, name, unit)
                    unit += 1
                else:
                    _set_uniform(program, name, value)
            probe = (file, tuple(sorted((name, repr(value)) for name, value in frame.params.items())))
            if probe not in self._probed:
                self._probe(shader, file)
                self._probed.add(probe)
            started = time.perf_counter()
            shader.vao.render(vertices=3)
            self._ctx.finish()
            took = time.perf_counter() - started
            if took > self.frame_budget:
                raise RenderTimeoutError(self._too_slow(file, f"took {took:.1f} s"))
            # Then the same RGB → YUV pass as an upload, into the frame's planes.
            texture.use(0)
            for plane, out in enumerate(self._out):
                out.use()
                self._convert.program["plane"].value = plane
                self._convert.vao.render(vertices=3)
        self._current = self._out

    def _probe(self, shader: _Program, file: Path) -> None:
        """Time `shader` on small viewports; RenderTimeoutError if a whole frame would be too slow.

        Call with the context current, the target bound and every uniform set.
        """
        whole = self._ctx.viewport  # the bound framebuffer's own: a change sticks to it
        try:
            self._time_samples(shader, file)
        finally:
            self._ctx.viewport = whole

    def _time_samples(self, shader: _Program, file: Path) -> None:
        self._ctx.viewport = (0, 0, 1, 1)  # the compile, and any cost that does not grow with pixels
        started = time.perf_counter()
        shader.vao.render(vertices=3)
        self._ctx.finish()
        took = time.perf_counter() - started
        if took > self.frame_budget:
            raise RenderTimeoutError(self._too_slow(file, f"would take hours (one pixel took {took:.0f} s)"))
        pixels = self.width * self.height
        for side in _PROBES:
            side = min(side, self.width, self.height)
            self._ctx.viewport = (0, 0, side, side)
            started = time.perf_counter()
            shader.vao.render(vertices=3)
            self._ctx.finish()
            took = time.perf_counter() - started
            estimate = took * pixels / (side * side)
            # A single tile runs on one rasterizer thread where a frame runs on all of them.
            allowed = self.frame_budget * (1 if side >= _PROBES[-1] else _rasterizer_threads())
            if took >= _PROBE_MEANINGFUL_S and estimate > allowed:
                raise RenderTimeoutError(
                    self._too_slow(file, f"would take about {estimate:.0f} s (timed on a {side}x{side} sample)")
                )
            if estimate < self.frame_budget / 4:
                return  # clearly fast enough
        log.info("%s: a %dx%d frame may take up to %.1f s", file.name, self.width, self.height, estimate)

    def _too_slow(self, file: Path, how_long: str) -> str:
        return (
            f"{file.name}: a {self.width}x{self.height} frame of this transition {how_long} on {self.renderer}, "
            f"more than the {self.frame_budget:g} s a frame may take; shorten its loops"
        )

    def compile_transition(self, file: Path) -> None:
        """Compile a user transition file now; a SpecError (file, line, message) if it does not."""
        self._check_open()
        with self._ctx:
            self._user_program(file)

    def _user_program(self, file: Path) -> _Program:
        """A user file's program, compiled on first use; a SpecError if it does not compile.

        Call with the context current.
        """
        shader = self._user_programs.get(file)
        if shader is None:
            source = read_user_transition(file).source
            text = shader_source("user_prelude.glsl") + "\n#line 1\n" + source
            try:
                shader = self._compile(text)
            except Exception as exc:  # moderngl.Error carries the compiler log
                raise _compile_error(file, exc) from exc
            _set_uniform(shader.program, "from", 0)
            _set_uniform(shader.program, "to", 1)
            self._user_programs[file] = shader
        return shader

    def _matte(self, value: str):
        """An image parameter of a built-in as (Y-size, CbCr-size) R8 textures, made once."""
        textures = self._images.get(("matte", value))
        if textures is None:
            textures = []
            for array in matte_planes(value, self.width, self.height):
                texture = self._ctx.texture((array.shape[1], array.shape[0]), 1, data=array, alignment=1)
                texture.filter = (self._ctx.NEAREST, self._ctx.NEAREST)
                texture.repeat_x = texture.repeat_y = False
                textures.append(texture)
            self._images[("matte", value)] = textures
        return textures

    def _rgb_frame(self):
        if self._rgb_target is None:
            texture = self._ctx.texture((self.width, self.height), 4)
            texture.filter = (self._ctx.NEAREST, self._ctx.NEAREST)
            self._rgb_target = (texture, self._ctx.framebuffer([texture]))
        return self._rgb_target

    def _image(self, path: str, resize: str = "stretch"):
        """An image parameter as a texture, fitted per `resize`, uploaded bottom-up (GL's convention) once.

        "stretch" keeps the image as it is (uv 0..1 spans it, whatever its shape);
        "cover" crops it to the frame's shape, "contain" pads it with transparency.
        """
        texture = self._images.get((path, resize))
        if texture is None:
            from PIL import ImageOps

            from ..raster.background import open_image

            if resize not in RESIZE_MODES:
                raise ValueError(f"resize must be one of {', '.join(RESIZE_MODES)}, got {resize!r}")
            with open_image(Path(path)) as image:
                size = (self.width, self.height)
                if resize == "cover":
                    image = ImageOps.fit(image, size)
                elif resize == "contain":
                    image = ImageOps.pad(image, size, color=(0, 0, 0, 0))
                with image:
                    pixels = np.ascontiguousarray(np.asarray(image)[::-1])
            texture = self._ctx.texture((pixels.shape[1], pixels.shape[0]), 4, data=pixels, alignment=1)
            texture.repeat_x = texture.repeat_y = False
            self._images[(path, resize)] = texture
        return texture

    # --- internals ----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RenderError("the compositor is closed")

    def _slide(self, handle: SlideHandle) -> _Slide | _Layered:
        slide = self._slides.get(handle.key) if isinstance(handle, SlideHandle) else None
        if slide is None or slide.handle != handle:
            raise ValueError(f"{handle!r} was not uploaded to this compositor")
        return slide

    def _planes(self):
        """A Y (R8) and a CbCr (RG8) texture at this size, each with its framebuffer."""
        y = self._ctx.texture((self.width, self.height), 1)
        uv = self._ctx.texture((self.width // 2, self.height // 2), 2)
        for texture in (y, uv):
            # Shaders read planes with texelFetch; these settings keep any sampled
            # access nearest and clamped too.
            texture.filter = (self._ctx.NEAREST, self._ctx.NEAREST)
            texture.repeat_x = texture.repeat_y = False
        return y, uv, (self._ctx.framebuffer([y]), self._ctx.framebuffer([uv]))

    def _compile(self, fragment_shader: str) -> _Program:
        program = self._ctx.program(vertex_shader=shader_source("fullscreen.vert"), fragment_shader=fragment_shader)
        return _Program(program, self._ctx.vertex_array(program, []))

    def _transition(self, name: str) -> _Program:
        """The program for a built-in transition (already validated), compiled on first use."""
        shader = self._programs.get(name)
        if shader is not None:
            return shader
        # "#line 1" makes compiler messages point at lines of the transition's own file.
        source = shader_source("transition_prelude.glsl") + "\n#line 1\n" + shader_source(f"transitions/{name}.glsl")
        try:
            shader = self._compile(source)
        except Exception as exc:
            raise RenderError(f"transition shader {name}.glsl does not compile: {exc}") from exc
        _set_uniform(shader.program, "from", 0)
        _set_uniform(shader.program, "to", 1)
        self._programs[name] = shader
        return shader


_LAYER_SAMPLERS = (
    "back",
    "static_colour",
    "static_alpha",
    "item_colour",
    "item_alpha",
    "rows",
    "reveal_image",
    "reveal_image_alpha",
    "reveal_base",
    "reveal_base_alpha",
    "reveal_times",
)


def _rgb_layer_textures(ctx, layers: LayerRGB) -> dict[str, Any]:
    """A layered slide's RGB layers as textures, by sampler name (as one plane's, at full size)."""
    arrays = {"back": layers.back}
    for prefix, front in (("static", layers.static), ("item", layers.items)):
        if front is not None:
            arrays[f"{prefix}_colour"], arrays[f"{prefix}_alpha"] = front.colour, front.alpha
    if layers.items is not None:
        arrays["rows"] = layers.rows.reshape(-1, 1)
    if layers.reveal is not None:
        image, base, times, _ = layers.reveal
        arrays["reveal_image"], arrays["reveal_image_alpha"] = image.colour, image.alpha
        arrays["reveal_base"], arrays["reveal_base_alpha"] = base.colour, base.alpha
        arrays["reveal_times"] = times
    return _textures(ctx, arrays)


def _layer_textures(ctx, planes: LayerPlanes, plane: int) -> dict[str, Any]:
    """One plane's layer textures (0: luma, 1: chroma), by sampler name."""
    arrays = {"back": planes.back_y if plane == 0 else planes.back_uv}
    for prefix, front in (("static", planes.static), ("item", planes.items)):
        if front is not None:
            arrays[f"{prefix}_colour"] = front.y if plane == 0 else front.uv
            arrays[f"{prefix}_alpha"] = front.alpha if plane == 0 else front.alpha_uv
    if planes.items is not None:
        arrays["rows"] = (planes.rows if plane == 0 else planes.rows_uv).reshape(-1, 1)
    if planes.reveal is not None:
        for prefix, front in (("reveal_image", planes.reveal.image), ("reveal_base", planes.reveal.base)):
            arrays[prefix] = front.y if plane == 0 else front.uv
            arrays[f"{prefix}_alpha"] = front.alpha if plane == 0 else front.alpha_uv
        arrays["reveal_times"] = planes.reveal.times if plane == 0 else planes.reveal.times_uv
    return _textures(ctx, arrays)


def _textures(ctx, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Arrays (H×W or H×W×C; uint8, or uint16 reveal times) as nearest, clamped textures."""
    textures = {}
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        components = array.shape[2] if array.ndim == 3 else 1
        dtype = "u2" if array.dtype == np.uint16 else "f1"  # reveal times: an integer texture
        texture = ctx.texture((array.shape[1], array.shape[0]), components, data=array, alignment=1, dtype=dtype)
        texture.filter = (ctx.NEAREST, ctx.NEAREST)
        texture.repeat_x = texture.repeat_y = False
        textures[name] = texture
    return textures


def _compile_error(file: Path, exc: Exception) -> SpecError:
    """The compiler's complaint about a user file as a one-line SpecError: file, line, message."""
    text = str(exc)
    # Mesa writes "0:8(50): error: ...", NVIDIA "0(8) : error C1008: ...".
    found = re.search(r"\b\d+[:(](\d+)\)?(?:\(\d+\))?\s*:\s*error\b:?\s*(.*)", text)
    if found:
        return SpecError(f"{file.name}:{found[1]}: does not compile: {found[2].strip()}", "transition.file")
    last = next((line.strip() for line in reversed(text.splitlines()) if line.strip()), text)
    return SpecError(f"{file.name}: does not compile: {last}", "transition.file")


def _set_uniform(program, name: str, value) -> None:
    # The compiler drops uniforms a shader never reads (ratio, often); skip those.
    uniform = program.get(name, None)
    if uniform is not None:
        uniform.value = value
