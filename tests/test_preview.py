"""`reel preview`: a real window on a virtual X display (Xvfb, started here), driven by
real key presses (xdotool, through the X server), its pixels read from the screen itself
(Xvfb's framebuffer file, `-fbdir`): what a user would see, not what the code says.

One preview process serves the tests of this module in order (a window costs seconds);
each test leaves it paused. The frames on screen must equal `reel still` exactly: the
window shows the render's NV12 frame converted by the same function, at 1:1 pixels.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import cli

SIZE = "320x180@10"
SCREEN = (1280, 800)
# Generous: each wait ends as soon as what it waits for is there, and the machine that
# runs the tests may be busy with other work.
WAIT = 90.0
DOCS_SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "preview.png"

DECK = {
    "title": "Preview deck",
    "defaults": {"transition": {"name": "fade", "duration": 0.5}},
    "slides": [
        {"kind": "title", "title": "Hello", "subtitle": "a live preview", "duration": 1.5},
        {"kind": "bullets", "title": "List", "bullets": ["space: play", "s: save a PNG"], "duration": 1.5},
    ],
}


def _xvfb_missing() -> str | None:
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (scripts/install-system-deps.sh installs xvfb and xdotool)"
    return None


class Display:
    """An Xvfb server on a free display number, its screen readable as an array."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        read, write = os.pipe()
        self.process = subprocess.Popen(
            # Autorepeat starts only after a minute: on a busy machine the gap between
            # xdotool's key press and release must not turn into repeated presses.
            ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-fbdir", str(folder)]
            + ["-ardelay", "60000", "-arinterval", "60000"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.process.kill()
            pytest.skip("Xvfb did not start")
        self.name = f":{number}"
        self.env = {**os.environ, "DISPLAY": self.name}
        self.env.pop("WAYLAND_DISPLAY", None)

    def xdotool(self, *args: str) -> str:
        done = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=WAIT, check=True
        )
        return done.stdout.strip()

    def screen(self) -> np.ndarray:
        """The whole screen as H×W×3 RGB, read from Xvfb's XWD framebuffer file."""
        data = np.fromfile(self.folder / "Xvfb_screen0", np.uint8)
        header = np.frombuffer(data[:100].tobytes(), ">u4")
        header_size, width, height, bytes_per_line, colours = header[0], header[4], header[5], header[12], header[19]
        start = int(header_size + colours * 12)
        pixels = data[start : start + bytes_per_line * height].reshape(height, bytes_per_line // 4, 4)[:, :width]
        return np.ascontiguousarray(pixels[..., 2::-1])  # BGRX, least significant byte first

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class Window:
    """The preview process and its window."""

    def __init__(self, display: Display, folder: Path, deck: Path) -> None:
        self.display, self.folder, self.deck = display, folder, deck
        self.stderr_path = folder / "stderr.txt"
        self.stderr_file = self.stderr_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "preview", str(deck), "-p", SIZE],
            cwd=folder,
            env=display.env,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr_file,
        )
        self.id = display.xdotool("search", "--sync", "--name", f"^{deck.stem} — ")
        display.xdotool("mousemove", "40", "40", "windowfocus", self.id)

    def title(self) -> str:
        if self.process.poll() is not None:
            raise AssertionError(f"the preview exited ({self.process.returncode}):\n{self.stderr()}")
        return self.display.xdotool("getwindowname", self.id)

    def key(self, *keys: str) -> None:
        self.display.xdotool("key", *keys)

    def wait_title(self, pattern: str, timeout: float = WAIT) -> str:
        end = time.monotonic() + timeout
        while True:
            title = self.title()
            if re.search(pattern, title):
                return title
            if time.monotonic() > end:
                raise AssertionError(f"the title never matched {pattern!r}; it is {title!r}\n{self.stderr()}")
            time.sleep(0.05)

    def wait_stderr(self, text: str, timeout: float = WAIT) -> str:
        end = time.monotonic() + timeout
        while text not in self.stderr():
            self.title()  # fails at once if the preview is gone
            if time.monotonic() > end:
                raise AssertionError(f"stderr never said {text!r}:\n{self.stderr()}")
            time.sleep(0.05)
        return self.stderr()

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def pixels(self) -> np.ndarray:
        """What the window shows, read from the screen."""
        shell = dict(line.split("=") for line in self.display.xdotool("getwindowgeometry", "--shell", self.id).split())
        x, y, width, height = (int(shell[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
        return self.display.screen()[y : y + height, x : x + width]

    def shows(self, expected: np.ndarray, timeout: float = WAIT) -> np.ndarray:
        """Wait until the window shows `expected` (the X server draws asynchronously)."""
        end = time.monotonic() + timeout
        while True:
            seen = self.pixels()
            if seen.shape == expected.shape and np.array_equal(seen, expected):
                return seen
            if time.monotonic() > end:
                if seen.shape != expected.shape:
                    raise AssertionError(f"the window is {seen.shape}, the frame {expected.shape}")
                diff = np.abs(seen.astype(int) - expected).max()
                raise AssertionError(
                    f"the window differs from the frame by up to {diff} in {(seen != expected).sum()} values"
                )
            time.sleep(0.05)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.stderr_file.close()


def still(deck: Path, seconds: float, folder: Path) -> np.ndarray:
    """`reel still` at `seconds`, as the PNG it writes."""
    out = folder / "still.png"
    assert cli.main(["still", str(deck), "--at", str(seconds), "-p", SIZE, "-o", str(out)]) == 0
    return _read_png(out)


def _red_banner(pixels: np.ndarray) -> bool:
    top = pixels[:4].astype(int)
    return bool((top[..., 0] > 150).all() and (top[..., 1] < 60).all())


def _read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="module")
def window(tmp_path_factory):
    reason = _xvfb_missing()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("preview")
    display = Display(folder)
    deck = folder / "deck.json"
    deck.write_text(json.dumps(DECK))
    opened = Window(display, folder, deck)
    try:
        yield opened
    finally:
        opened.close()
        display.close()


def test_the_window_opens_on_the_first_frame_and_says_what_draws_it(window):
    assert window.wait_title(r"0\.00 s / 2\.5 s, frame 0/25 — 320x180@10 — paused")
    assert "composited by" in window.stderr()


def test_the_window_shows_exactly_what_reel_still_writes(window):
    window.shows(still(window.deck, 0.0, window.folder))
    window.key(
        "Right", "Right", "Right", "Right", "Right", "Right", "Right", "Right", "Right", "Right", "Right", "Right"
    )
    window.wait_title(r"1\.20 s .* frame 12/25")  # the fade, 40 % through
    window.shows(still(window.deck, 1.2, window.folder))


def test_keys_move_the_position(window):
    window.key("Home")
    window.wait_title(r"frame 0/25")
    window.key("Right")
    window.wait_title(r"0\.10 s .* frame 1/25")
    window.key("shift+Right")  # the next slide starts at 1.0 s (its fade in)
    window.wait_title(r"1\.00 s .* frame 10/25")
    window.key("End")
    window.wait_title(r"2\.40 s .* frame 24/25 .* paused")
    window.key("shift+Left", "Left")
    window.wait_title(r"0\.90 s .* frame 9/25")
    window.key("space")  # plays, keeping time, to the end
    window.wait_title(r"frame 24/25")
    window.key("Home")
    window.wait_title(r"frame 0/25")


def test_s_saves_the_frame_on_screen_as_png_and_says_where(window):
    window.key("Right", "Right", "Right")
    window.wait_title(r"frame 3/25 .* paused")
    window.key("s")
    said = window.wait_stderr("saved frame 3")
    saved = Path(re.search(r"saved frame 3 \(0\.30 s\) to (.+\.png)", said).group(1))
    assert saved.parent == window.folder
    assert np.array_equal(_read_png(saved), still(window.deck, 0.3, window.folder))


def test_a_changed_deck_reloads_at_the_same_time(window):
    window.key("End", "shift+Left", "Right", "Right", "Right", "Right", "Right", "Right", "Right", "Right")
    window.wait_title(r"1\.80 s .* frame 18/25")
    time.sleep(0.05)  # a new modification time, even on a coarse clock
    edited = json.loads(json.dumps(DECK))
    edited["slides"][1]["title"] = "Edited live"
    window.deck.write_text(json.dumps(edited))
    window.wait_stderr("reloaded at 1.80 s")
    assert re.search(r"1\.80 s .* frame 18/25", window.title())
    window.shows(still(window.deck, 1.8, window.folder))
    # The screenshot in the README: the preview window as a user sees it.
    shot = window.pixels()
    if not DOCS_SCREENSHOT.exists() or not np.array_equal(_read_png(DOCS_SCREENSHOT), shot):
        Image.fromarray(shot).save(DOCS_SCREENSHOT, optimize=True)


def test_a_broken_deck_shows_its_error_and_keeps_the_last_good_frame(window):
    good = window.pixels()
    broken = json.loads(json.dumps(DECK))
    broken["slides"][1]["duration"] = "long"
    window.deck.write_text(json.dumps(broken))
    said = window.wait_stderr("error:")
    assert re.search(r"error: slides\[1\]\.duration: .*\(showing the last good deck\)", said)
    window.wait_title("DECK ERROR, showing the last good deck")
    end = time.monotonic() + WAIT
    while not _red_banner(seen := window.pixels()) and time.monotonic() < end:
        time.sleep(0.05)
    assert _red_banner(seen), "no red banner across the top"
    assert np.array_equal(seen[60:], good[60:]), "below the banner, the last good frame"
    window.key("Left")  # the last good deck still plays
    window.wait_title(r"1\.70 s .* frame 17/25")
    fixed = json.loads(json.dumps(DECK))
    fixed["slides"][1]["title"] = "Edited live"
    window.deck.write_text(json.dumps(fixed))
    window.wait_stderr("fixed, reloaded at 1.70 s")
    window.shows(still(window.deck, 1.7, window.folder))


def test_a_changed_picture_reloads_the_deck_that_names_it(window):
    picture = window.folder / "picture.png"
    Image.new("RGB", (64, 36), (200, 40, 40)).save(picture)
    with_picture = json.loads(json.dumps(DECK))
    with_picture["slides"][1] = {"kind": "image", "file": "picture.png", "duration": 1.5}
    reloads = window.stderr().count("reloaded at")
    window.deck.write_text(json.dumps(with_picture))
    end = time.monotonic() + WAIT
    while window.stderr().count("reloaded at") == reloads and time.monotonic() < end:
        time.sleep(0.05)
    window.shows(still(window.deck, 1.7, window.folder))
    reloads = window.stderr().count("reloaded at")
    time.sleep(0.05)
    Image.new("RGB", (64, 36), (40, 40, 200)).save(picture)  # the deck file is unchanged
    window.wait_stderr("reloaded at 1.70 s")
    while window.stderr().count("reloaded at") == reloads and time.monotonic() < end:
        time.sleep(0.05)
    blue = still(window.deck, 1.7, window.folder)
    assert blue[90, 160, 2] > blue[90, 160, 0]
    window.shows(blue)


def test_a_frame_that_cannot_be_made_is_said_and_the_preview_stays_open(window):
    picture = window.folder / "picture.png"
    whole = picture.read_bytes()
    picture.write_bytes(whole[:60])  # its header reads, its pixels do not: the deck loads, the frame fails
    said = window.wait_stderr("until the deck is fixed")
    assert re.search(
        r"error: cannot read image .*picture\.png: image file is truncated \(until the deck is fixed\)", said
    )
    end = time.monotonic() + WAIT
    while not _red_banner(window.pixels()) and time.monotonic() < end:
        time.sleep(0.05)
    assert _red_banner(window.pixels()), "no red banner across the top"
    picture.write_bytes(whole)
    window.wait_stderr("fixed, reloaded at 1.70 s")
    window.shows(still(window.deck, 1.7, window.folder))


def test_p_lays_the_deck_out_for_the_next_platform_and_resizes_the_window(window):
    window.key("p")  # 320x180@10 → youtube (1920x1080, scaled down to fit the 1280x800 screen)
    window.wait_title(r"1\.70 s / 2\.5 s, frame 51/75 — youtube")
    end = time.monotonic() + WAIT
    while window.pixels().shape[:2] != (720, 1280) and time.monotonic() < end:
        time.sleep(0.05)
    assert window.pixels().shape[:2] == (720, 1280)


@pytest.mark.parametrize(
    ("display", "why"),
    [(None, "no display to open the preview window on"), (":9999", "glfw could not open the display")],
)
def test_without_a_display_preview_fails_with_one_line_and_a_draft_hint(tmp_path, display, why):
    deck = tmp_path / "deck.json"
    deck.write_text(json.dumps(DECK))
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    if display:
        env["DISPLAY"] = display
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "preview", str(deck)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"reel: error: {why}")
    assert f"reel render {deck} --quality draft" in lines[0]
