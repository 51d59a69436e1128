"""Shared fixtures: GL compositors that skip with a reason, and a GL error check.

GL tests run on whatever EGL offers (Mesa's llvmpipe in CI, so no GPU is needed) and
are marked ``@pytest.mark.gl``. Making a context costs tens of milliseconds, so one
GLCompositor per frame size is shared by the whole session.

The property tests (Hypothesis) draw the same examples on every run, CI's included: a
red build then means the change, not a new draw. ``pytest --hypothesis-profile explore``
searches afresh, and keeps what it finds in .hypothesis/.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from engine.errors import BackendUnavailableError

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")  # (--hypothesis-profile loads another after this)


class GLCompositors:
    """Hands out one shared GLCompositor per (width, height), or skips the test."""

    def __init__(self) -> None:
        self.made: dict[tuple[int, int], object] = {}
        self.unavailable: str | None = None

    def __call__(self, width: int, height: int):
        if self.unavailable:
            pytest.skip(self.unavailable)
        if (width, height) not in self.made:
            from engine.composite.gl import GLCompositor

            try:
                self.made[(width, height)] = GLCompositor(width, height)
            except BackendUnavailableError as exc:
                reason = str(exc)
                self.unavailable = reason if reason.startswith("no EGL context") else f"no EGL context: {reason}"
                pytest.skip(self.unavailable)
        return self.made[(width, height)]

    def errors(self) -> list[str]:
        """GL errors pending on any context made so far (reading them clears them)."""
        found = []
        for size, compositor in self.made.items():
            ctx = compositor.ctx
            with ctx:
                error = ctx.error
            if error != "GL_NO_ERROR":
                found.append(f"{size[0]}×{size[1]}: {error}")
        return found

    def close(self) -> None:
        for compositor in self.made.values():
            compositor.close()
        self.made.clear()


@pytest.fixture(scope="session")
def gl_compositor():
    """``gl_compositor(width, height)`` → a shared GLCompositor, or the test is skipped."""
    compositors = GLCompositors()
    yield compositors
    compositors.close()


@pytest.fixture(autouse=True)
def _no_gl_errors(request):
    """Around each @pytest.mark.gl test: no GL error before it, none left after it."""
    if request.node.get_closest_marker("gl") is None:
        yield
        return
    compositors = request.getfixturevalue("gl_compositor")
    assert compositors.errors() == [], "a GL error was pending before this test"
    yield
    assert compositors.errors() == [], "this test left a GL error behind"


def pytest_addoption(parser):
    parser.addoption(
        "--regenerate-golden", action="store_true", help="rewrite tests/golden/*.png from the current code"
    )


def pytest_sessionstart(session):
    """The example deck names generated sound (`make setup` makes it); make it if missing."""
    examples = Path(__file__).parent.parent / "examples"
    if not all((examples / "assets" / name).exists() for name in ("music.m4a", "voiceover.wav")):
        subprocess.run([sys.executable, str(examples / "make_sound.py")], check=True)
