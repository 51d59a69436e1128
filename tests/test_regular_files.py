"""Only regular files are read: a FIFO, socket, device or folder is refused before any open.

Opening a FIFO that has no writer blocks for ever, and ``/dev/zero`` never ends; each
case here must come back as a one-line AssetError in well under a second. A watchdog
opens each FIFO for writing after a few seconds, so a regression fails the test
instead of hanging it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import cli
from engine.audio.decode import AudioReader, probe_audio, voiceover_duration
from engine.errors import AssetError
from engine.files import file_problem, read_regular, regular_file
from engine.raster.background import open_image
from engine.spec import load_deck
from engine.usershader import read_user_transition

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")

BOUND_S = 2.0  # far more than a refusal takes; far less than a blocked open would


@contextlib.contextmanager
def unblocking(*fifos: Path, after: float = 5.0):
    """Open each FIFO for writing after `after` seconds, so a reader stuck in open() returns."""
    done = threading.Event()

    def release() -> None:
        if done.wait(after):
            return
        for fifo in fifos:
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # ENXIO when nobody reads

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def fifo(folder: Path, name: str) -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def write_png(path: Path, size=(8, 8)) -> Path:
    Image.new("RGB", size, (200, 30, 30)).save(path)
    return path


def write_wav(path: Path, seconds: float = 0.5, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.sin(np.arange(int(seconds * rate)) / 5) * 8000).astype("<i2").tobytes())
    return path


def refused(call, *args) -> tuple[str, float]:
    """(message, seconds) of the AssetError `call(*args)` raises; one line, quick."""
    start = time.perf_counter()
    with pytest.raises(AssetError) as caught:
        call(*args)
    elapsed = time.perf_counter() - start
    message = str(caught.value)
    assert "\n" not in message
    assert elapsed < BOUND_S, f"took {elapsed:.2f} s"
    return message, elapsed


# ---------------------------------------------------------------------------------
# The helper


def test_file_problem_names_each_kind_of_file_without_opening_it(tmp_path):
    pipe = fifo(tmp_path, "pipe")
    regular = tmp_path / "file.txt"
    regular.write_text("hello")
    link = tmp_path / "link"
    link.symlink_to(pipe)
    assert file_problem(regular) is None
    assert file_problem(tmp_path / "gone") == "not found"
    assert file_problem(tmp_path) == "is a folder, not a file"
    assert file_problem(pipe) == "is a FIFO (named pipe), not a regular file"
    assert file_problem(link) == "is a FIFO (named pipe), not a regular file"  # symlinks resolve first
    assert file_problem("/dev/null") == "is a character device, not a regular file"
    assert file_problem(regular, 4, "REEL_X") == "is 5 bytes, more than the 4 bytes REEL_X allows"


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s.sock"
    if len(str(path)) > 100:
        pytest.skip("the temporary folder's path is too long for a unix socket")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        message, _ = refused(regular_file, path, "image")
        assert message == f"image is a socket, not a regular file: {path}"


def test_regular_file_returns_the_resolved_target(tmp_path):
    target = tmp_path / "real.png"
    write_png(target)
    link = tmp_path / "alias.png"
    link.symlink_to(target)
    assert regular_file(link, "image") == target.resolve()


def test_read_regular_reads_at_most_its_limit(tmp_path):
    path = tmp_path / "deck.json"
    path.write_bytes(b"x" * 100)
    assert read_regular(path, "deck file", 100) == b"x" * 100
    message, _ = refused(
        read_regular,
        path,
        "deck file",
        99,
    )
    assert message == f"deck file is 100 bytes, more than the 99 bytes limit allows: {path}"


def test_read_regular_refuses_a_fifo_and_a_device(tmp_path):
    pipe = fifo(tmp_path, "pipe")
    with unblocking(pipe):
        message, _ = refused(read_regular, pipe, "deck file", 1000)
    assert "FIFO" in message
    message, _ = refused(read_regular, "/dev/zero", "deck file", 1000)
    assert message == "deck file is a character device, not a regular file: /dev/zero"


# ---------------------------------------------------------------------------------
# Every reader


def test_each_reader_refuses_a_fifo_at_once(tmp_path):
    pipe = fifo(tmp_path, "pipe")
    with unblocking(pipe):
        for call in (
            lambda: open_image(pipe),
            lambda: probe_audio(pipe, "audio.music"),
            lambda: voiceover_duration(pipe, "slides[0].voiceover"),
            lambda: AudioReader(pipe, "audio.music").read(10),
            lambda: read_user_transition(pipe),
        ):
            message, _ = refused(call)
            assert "is a FIFO (named pipe), not a regular file" in message and str(pipe) in message


def _deck(tmp_path: Path, **slide) -> dict:
    return {
        "slides": [
            {"kind": "title", "title": "A", "duration": 1},
            {"kind": "title", "title": "B", "duration": 1, **slide},
        ]
    }


@pytest.mark.parametrize(
    ("where", "build"),
    [
        ("slides[1].file", lambda f: _deck_image(f)),
        (
            "slides[1].background.image",
            lambda f: {
                "slides": [
                    {"kind": "title", "title": "A"},
                    {"kind": "title", "title": "B", "background": {"image": str(f)}},
                ]
            },
        ),
        ("theme.font", lambda f: {"theme": {"font": str(f)}, "slides": [{"kind": "title", "title": "A"}]}),
        (
            "theme.fallback_fonts[0]",
            lambda f: {"theme": {"fallback_fonts": [str(f)]}, "slides": [{"kind": "title", "title": "A"}]},
        ),
        ("audio.music", lambda f: {"audio": {"music": str(f)}, "slides": [{"kind": "title", "title": "A"}]}),
        ("slides[0].voiceover", lambda f: {"slides": [{"kind": "title", "title": "A", "voiceover": str(f)}]}),
        (
            "slides[0].voiceover",
            lambda f: {"slides": [{"kind": "title", "title": "A", "duration": "auto", "voiceover": str(f)}]},
        ),
        (
            "slides[1].transition.params.matte",
            lambda f: _deck_transition({"name": "lumawipe", "params": {"matte": str(f)}}),
        ),
        ("slides[1].transition.file", lambda f: _deck_transition({"file": str(f)})),
    ],
)
def test_load_deck_refuses_a_fifo_anywhere_a_deck_names_a_file(tmp_path, where, build):
    pipe = fifo(tmp_path, "pipe")
    with unblocking(pipe):
        message, _ = refused(load_deck, build(pipe))
    assert message.startswith(f"{where}") and "is a FIFO (named pipe), not a regular file" in message
    assert message.endswith(str(pipe))


def _deck_image(file: Path) -> dict:
    return {"slides": [{"kind": "title", "title": "A"}, {"kind": "image", "file": str(file)}]}


def _deck_transition(transition: dict) -> dict:
    return {
        "slides": [
            {"kind": "title", "title": "A", "duration": 1},
            {"kind": "title", "title": "B", "duration": 1, "transition": transition},
        ]
    }


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_a_device_named_as_an_image_or_sound_is_refused(device):
    if not os.path.exists(device):
        pytest.skip(f"{device} is not on this system")
    for deck, where in (
        (_deck_image(Path(device)), "slides[1].file: image"),
        ({"audio": {"music": device}, "slides": [{"kind": "title", "title": "A"}]}, "audio.music: audio file"),
    ):
        message, _ = refused(load_deck, deck)
        assert message == f"{where} is a character device, not a regular file: {device}"


def test_a_folder_is_still_called_a_folder(tmp_path):
    message, _ = refused(load_deck, _deck_image(tmp_path))
    assert message == f"slides[1].file: image is a folder, not a file: {tmp_path}"


def test_a_symlink_to_a_regular_file_is_read_like_the_file(tmp_path):
    link = tmp_path / "link.png"
    link.symlink_to(write_png(tmp_path / "real.png"))
    deck = load_deck(_deck_image(link))
    assert deck.slides[1].file == link  # the deck keeps the path it was given


# ---------------------------------------------------------------------------------
# The deck file itself, and the command line


def test_a_deck_that_is_dev_zero_is_an_asset_error_not_memory_error():
    message, _elapsed = refused(load_deck, "/dev/zero")
    assert message == "deck file is a character device, not a regular file: /dev/zero"


def test_a_deck_fifo_is_refused_by_load_deck(tmp_path):
    pipe = fifo(tmp_path, "deck.json")
    with unblocking(pipe):
        message, _ = refused(load_deck, pipe)
    assert message == f"deck file is a FIFO (named pipe), not a regular file: {pipe}"


@pytest.mark.parametrize("what", ["deck", "image", "music"])
def test_cli_render_of_a_fifo_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, what):
    pipe = fifo(tmp_path, "pipe.json" if what == "deck" else "pipe")
    deck_file = pipe
    if what != "deck":
        deck_file = tmp_path / "deck.json"
        data = (
            _deck_image(pipe)
            if what == "image"
            else {"audio": {"music": str(pipe)}, "slides": [{"kind": "title", "title": "A", "duration": 1}]}
        )
        deck_file.write_text(json.dumps(data))
    out = tmp_path / "out"
    out.mkdir()
    start = time.perf_counter()
    with unblocking(pipe):
        code = cli.main(["render", str(deck_file), "-p", "64x36@5", "-o", str(out), "-q"])
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err
    assert code == 2 and elapsed < BOUND_S
    assert err.count("\n") == 1 and "FIFO (named pipe), not a regular file" in err and "Traceback" not in err
    assert list(out.iterdir()) == []


def test_cli_render_of_dev_zero_exits_2(capsys, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["render", "/dev/zero", "-p", "64x36@5", "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert err == "reel: error: deck file is a character device, not a regular file: /dev/zero\n"
    assert list(out.iterdir()) == []


def test_the_audio_reader_still_refuses_an_empty_file(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.touch()
    message, _ = refused(probe_audio, empty, "audio.music")
    assert message == f"audio.music: audio file {empty} is empty (0 bytes)"
    assert voiceover_duration(write_wav(tmp_path / "ok.wav"), "vo") == pytest.approx(0.5)
