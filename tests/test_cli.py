"""The `reel` command: outputs, one-line errors with exit 2, nothing half-written."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from engine import cli

from .helpers import probe


def write_deck(folder, **overrides):
    deck = {
        "title": "CLI deck",
        "defaults": {"transition": {"name": "fade", "duration": 0.5}},
        "slides": [
            {"kind": "title", "title": "Hello", "duration": 1.5},
            {"kind": "bullets", "title": "List", "bullets": ["one", "two"], "duration": 1.5},
        ],
    }
    deck.update(overrides)
    path = folder / "deck.json"
    path.write_text(json.dumps(deck))
    return path


def run_reel(*args):
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *map(str, args)], capture_output=True, text=True, check=False
    )


def test_render_two_platforms_with_report(tmp_path):
    deck = write_deck(tmp_path)
    out = tmp_path / "out"
    code = cli.main(
        [
            "render",
            str(deck),
            "-p",
            "320x180@10",
            "-p",
            "180x320@10",
            "-o",
            str(out),
            "--report",
            str(tmp_path / "r.json"),
            "-q",
        ]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["deck-180x320@10.mp4", "deck-320x180@10.mp4"]
    assert probe(out / "deck-180x320@10.mp4").frames == 25
    reports = json.loads((tmp_path / "r.json").read_text())["outputs"]
    assert [r["platform"] for r in reports] == ["320x180@10", "180x320@10"]


def test_still_writes_the_frame_as_png(tmp_path):
    deck = write_deck(tmp_path)
    code = cli.main(["still", str(deck), "--at", "2.0", "-p", "320x180@10", "-o", str(tmp_path / "f.png")])
    assert code == 0
    with Image.open(tmp_path / "f.png") as image:
        assert image.size == (320, 180)
        assert np.asarray(image).std() > 5  # a slide, not a blank frame


def test_platforms_schema_and_doctor_print(capsys):
    assert cli.main(["platforms"]) == 0
    assert "instagram_portrait" in capsys.readouterr().out
    assert cli.main(["schema"]) == 0
    assert "slides" in json.loads(capsys.readouterr().out)["properties"]
    assert cli.main(["transitions"]) == 0
    listing = capsys.readouterr().out
    assert "wipeleft" in listing and "softness=0.0" in listing and "ease-in-out" in listing
    assert cli.main(["transitions", "--json"]) == 0
    assert "fadeblack" in json.loads(capsys.readouterr().out)["transitions"]
    assert cli.main(["doctor", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["encoders"]["libx264"] == "works"
    assert facts["compositors"]["cpu"].startswith("ok")


def _bad_duration(tmp_path):
    deck = write_deck(tmp_path)
    data = json.loads(deck.read_text())
    data["slides"][1]["duration"] = -1
    deck.write_text(json.dumps(data))
    return [str(deck)], "slides[1].duration"


def _missing_image(tmp_path):
    deck = write_deck(tmp_path, slides=[{"kind": "image", "file": "nope.png"}])
    return [str(deck)], "nope.png"


def _corrupt_image_found_mid_render(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    deck = write_deck(
        tmp_path,
        slides=[
            {"kind": "title", "title": "Fine", "duration": 1.5},
            {"kind": "image", "file": "broken.png", "duration": 1.5},
        ],
    )
    return [str(deck)], "broken.png"


def _unknown_compositor_encoder(tmp_path):
    return [str(write_deck(tmp_path)), "--encoder", "h265_magic"], "h265_magic"


@pytest.mark.parametrize(
    "make_case", [_bad_duration, _missing_image, _corrupt_image_found_mid_render, _unknown_compositor_encoder]
)
def test_user_errors_print_one_line_exit_2_and_write_nothing(tmp_path, make_case):
    args, mentioned = make_case(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    result = run_reel("render", *args, "-p", "320x180@10", "-o", out)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reel: error:") and mentioned in lines[0]
    assert "Traceback" not in result.stderr
    assert list(out.iterdir()) == []


def test_no_disk_space_is_insufficient_resources(tmp_path, monkeypatch, capsys):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("engine.output.shutil.disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["render", str(write_deck(tmp_path)), "-p", "320x180@10", "-o", str(out)]) == 2
    assert "MB free" in capsys.readouterr().err
    assert list(out.iterdir()) == []
    assert shutil  # the real module is untouched outside engine.output


def test_no_working_encoder_is_codec_not_supported(tmp_path, monkeypatch, capsys):
    from engine.encode import ENCODERS, EncoderEntry, probe_encoder

    broken = EncoderEntry("engine.encode.pyav:PyAVEncoder", "h264", "h264_no_such_encoder")
    monkeypatch.setattr(ENCODERS, "table", {"broken": broken})
    probe_encoder.cache_clear()
    out = tmp_path / "out"
    out.mkdir()
    try:
        assert cli.main(["render", str(write_deck(tmp_path)), "-p", "320x180@10", "-o", str(out)]) == 2
    finally:
        probe_encoder.cache_clear()
    assert "no encoder for h264" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_unavailable_gl_named_explicitly_is_backend_unavailable(tmp_path, monkeypatch, capsys):
    from engine.registry import Entry

    monkeypatch.setitem(cli_compositors().table, "gl", Entry("engine.composite.no_such_module:Nope"))
    out = tmp_path / "out"
    out.mkdir()
    assert (
        cli.main(["render", str(write_deck(tmp_path)), "-p", "320x180@10", "-o", str(out), "--compositor", "gl"]) == 2
    )
    assert "gl" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def cli_compositors():
    from engine.composite import COMPOSITORS

    return COMPOSITORS


def test_internal_error_exits_1_without_traceback(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("engine.pipeline.render_output", broken)
    assert cli.main(["render", str(write_deck(tmp_path)), "-p", "320x180@10", "-o", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback" not in err


def test_sigterm_mid_render_leaves_nothing_behind(tmp_path):
    """A scheduler's SIGTERM unwinds like Ctrl-C: exit 130, no partial file."""
    import signal
    import subprocess
    import sys
    import time

    deck = {"slides": [{"kind": "title", "title": f"Slide {i}", "duration": 5} for i in range(12)]}
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "render",
            str(tmp_path / "deck.json"),
            "-p",
            "youtube",
            "-o",
            str(tmp_path / "out.mp4"),
            "-q",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".*.mp4")) and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)  # wait until the render has started writing
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "interrupted" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.json"]


@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["render", "deck", "-j", "x"],
            "reel: error: argument -j/--jobs: invalid int value: 'x' (see reel render --help)",
        ),
        (["render"], "reel: error: the following arguments are required: deck (see reel render --help)"),
        (
            ["still", "deck", "--at", "soon"],
            "reel: error: argument --at: invalid float value: 'soon' (see reel still --help)",
        ),
        (["jobs", "show"], "reel: error: the following arguments are required: id (see reel jobs show --help)"),
        (
            ["render", "deck", "--compositor", "vulkan"],
            "reel: error: argument --compositor: invalid choice: 'vulkan' (choose from 'auto', 'gl', 'cpu') (see reel render --help)",
        ),
        (["--no-such-option"], "reel: error: unrecognized arguments: --no-such-option (see reel --help)"),
        (
            ["render", "deck", "-j", "0"],
            "reel: error: argument -j/--jobs: must be 1 or more, not 0 (see reel render --help)",
        ),
        (
            ["worker", "-j", "-2"],
            "reel: error: argument -j/--workers: must be 1 or more, not -2 (see reel worker --help)",
        ),
    ],
)
def test_a_usage_error_is_one_line_and_a_hint_exit_2(args, line):
    result = run_reel(*args)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""


def test_help_still_prints_the_usage():
    result = run_reel("render", "--help")
    assert result.returncode == 0 and result.stdout.startswith("usage: reel render")


def test_an_error_naming_a_file_with_a_line_break_is_still_one_line(tmp_path):
    result = run_reel("render", tmp_path / "no\nsuch.json", "-o", tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("reel: error: ") and f"{tmp_path}/no\\nsuch.json" in line


def test_a_closed_pipe_ends_reel_quietly():
    # `reel schema | head -c0`: the reader is gone before reel writes.
    import subprocess
    import sys

    reel = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "schema"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    reel.stdout.close()
    _, err = reel.communicate(timeout=60)
    assert b"Traceback" not in err and b"internal error" not in err, err
