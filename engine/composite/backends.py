"""Which compositors exist and which one a render gets.

Backends are named in a preference table (`COMPOSITORS`, gl then cpu) and imported
lazily, so `import engine` needs neither OpenGL nor anything else a backend uses.
``auto`` tries each in order and records why one was skipped; a backend named
explicitly that cannot start raises `BackendUnavailableError`.

``auto`` takes GL only where it runs on a GPU. Where EGL offers nothing but Mesa's
llvmpipe, the numpy compositor is measurably the better CPU path (a 1080p fade frame:
~3.5 ms in numpy, ~13 ms on llvmpipe with two cores; ~100 MB less memory, since no
LLVM and no software GL context are loaded), so ``auto`` skips software GL and says
so in the report. ``gl`` still runs on llvmpipe when named.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import BackendUnavailableError
from ..registry import Entry, Registry, Skips
from .base import Compositor

__all__ = ["COMPOSITORS", "only_software_gl", "open_compositor"]

log = logging.getLogger("engine.composite")

#: name → the compositor class, in order of preference for "auto".
COMPOSITORS: Registry[Entry, Callable[..., Compositor]] = Registry(
    "compositor",
    {
        "gl": Entry("engine.composite.gl:GLCompositor"),
        "cpu": Entry("engine.composite.cpu:CPUCompositor"),
    },
)


def open_compositor(
    name: str,
    width: int,
    height: int,
    fallbacks: list[str] | None = None,
    glsl_files: Sequence[Path] = (),
) -> Compositor:
    """Start compositor `name` ("auto", "gl" or "cpu") for frames of `width`×`height`.

    With "auto", each backend that fails to start adds a line to `fallbacks` (when
    given) saying why, and the next one is tried. `glsl_files` are user transition
    files the render will run: only GL can, so they rule the numpy compositor out and
    let "auto" take software GL.
    """
    if name != "auto" and name not in COMPOSITORS:
        raise BackendUnavailableError(f"unknown compositor {name!r}; use auto, {', '.join(COMPOSITORS)}")
    if glsl_files:
        needs = f"the transition file {Path(glsl_files[0]).name} is GLSL and needs the gl compositor"
        if name == "cpu":
            raise BackendUnavailableError(f"{needs}; drop --compositor cpu")
        try:
            return COMPOSITORS.load("gl")(width, height, keep_rgb=True)
        except BackendUnavailableError as exc:
            raise BackendUnavailableError(f"{needs}, which cannot start here: {exc}") from exc
    candidates = list(COMPOSITORS) if name == "auto" else [name]
    skips = Skips(fallbacks, log)
    for candidate in candidates:
        if name == "auto" and candidate == "gl" and only_software_gl():
            skips.add("compositor gl skipped: EGL offers only software rendering (llvmpipe), where cpu is faster")
            continue
        try:
            compositor = COMPOSITORS.load(candidate)(width, height)
        except BackendUnavailableError as exc:
            if name != "auto":
                raise
            skips.add(f"compositor {candidate} unavailable: {exc}")
            continue
        if name == "auto" and compositor.kind == "gl-software" and candidate != candidates[-1]:
            # EGL's devices could not be listed beforehand; the context told us now.
            compositor.close()
            skips.add(f"compositor gl skipped: {compositor.renderer} is software rendering, where cpu is faster")
            continue
        return compositor
    raise BackendUnavailableError(str(skips))


def only_software_gl() -> bool:
    """True when every EGL device is a software renderer; False if any is hardware or if unknown."""
    from ._egl import list_devices

    devices = list_devices()
    return bool(devices) and all(device.is_software for device in devices)
