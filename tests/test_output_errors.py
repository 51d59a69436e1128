"""The output side's OS errors: one line naming the path, exit 2, found before any work,
nothing left behind; temporaries named by their writer, and what killed renders left.

Real files, mounts and processes: a folder named x.mp4, an output folder that is a file
or a device, a folder without write permission (as root: a child without the
DAC-override capabilities), a read-only and a full tmpfs (mounted where the test may:
as root, or in a user namespace with `unshare -rm`; skipped with the reason otherwise),
names of 250 and 255 characters, and a render killed with SIGKILL.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine import cli, frames, pipeline
from engine.errors import InsufficientResourcesError, OutputError, RenderError
from engine.output import (
    atomic_output,
    check_target,
    output_error,
    refuse_duplicate_targets,
    remove_stale_temporaries,
    temporaries_in,
    temporaries_of,
)

from .helpers import probe

REPO = Path(__file__).resolve().parents[1]
SMALL = ["-p", "160x90@10", "--quality", "standard", "--compositor", "cpu"]


def write_deck(folder: Path, name: str = "deck", slides: int = 2, seconds: float = 1.0) -> Path:
    deck = {"slides": [{"kind": "title", "title": f"Slide {i}", "duration": seconds} for i in range(slides)]}
    path = folder / f"{name}.json"
    path.write_text(json.dumps(deck))
    return path


def reel(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
        **kwargs,
    )


def one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("reel: error: ") and "Traceback" not in stderr, stderr
    return lines[0]


def main_fails_fast(args: list[str], capsys) -> str:
    """Run `reel` in this process: exit 2, one line, and no frame made or encoder opened."""

    def rendered(*args, **kwargs):
        raise AssertionError("it rendered before failing")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "open_compositor", rendered)
        patch.setattr(frames, "open_compositor", rendered)  # (stills)
        patch.setattr(pipeline, "open_encoder", rendered)
        code = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "it rendered before failing" not in err
    return one_line_error(err)


# -- the target and its folder, found before any work ----------------------------------------


def test_target_that_is_a_folder_named_x_mp4(tmp_path, capsys):
    (tmp_path / "x.mp4").mkdir()
    line = main_fails_fast(["render", write_deck(tmp_path), *SMALL, "-o", tmp_path / "x.mp4"], capsys)
    assert line == f"reel: error: {tmp_path / 'x.mp4'}: is a folder; name a file that is not one"
    assert list((tmp_path / "x.mp4").iterdir()) == []


def test_output_folder_that_is_a_regular_file(tmp_path, capsys):
    (tmp_path / "out").write_text("a file")
    line = main_fails_fast(["render", write_deck(tmp_path), *SMALL, "-o", tmp_path / "out"], capsys)
    assert line == f"reel: error: {tmp_path / 'out'}: the output folder is a regular file, not a folder"
    assert (tmp_path / "out").read_text() == "a file"


def test_output_folder_below_a_regular_file(tmp_path, capsys):
    (tmp_path / "out").write_text("a file")
    line = main_fails_fast(["render", write_deck(tmp_path), *SMALL, "-o", tmp_path / "out" / "sub"], capsys)
    assert line == f"reel: error: {tmp_path / 'out' / 'sub'}: not a folder ({tmp_path / 'out'} is a regular file)"


def test_output_folder_that_is_a_device(tmp_path, capsys):
    line = main_fails_fast(["render", write_deck(tmp_path), *SMALL, "-o", "/dev/null"], capsys)
    assert line == "reel: error: /dev/null: the output folder is a character device, not a folder"


def test_target_that_is_a_device_is_refused_not_written(tmp_path):
    fifo = tmp_path / "x.mp4"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="is a FIFO, not a regular file"):
        check_target(fifo)  # an open for writing would block: refused before it


def test_a_name_longer_than_the_file_system_allows(tmp_path, capsys):
    name = "n" * 252 + ".mp4"  # 256 bytes
    line = main_fails_fast(["render", write_deck(tmp_path), *SMALL, "-o", tmp_path / name], capsys)
    assert line == (
        f"reel: error: {tmp_path / ('n' * 40)}…: the name is 256 bytes, this file system allows 255; choose a shorter one"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.json"]


@pytest.mark.parametrize("length", [250, 255])
def test_a_name_of_250_to_255_characters_renders(tmp_path, length):
    name = "v" * (length - 4) + ".mp4"  # the temporary beside it must not add to it
    result = reel("render", write_deck(tmp_path), *SMALL, "-o", tmp_path / name, "-q", "--thumbnail")
    assert result.returncode == 0, result.stderr
    assert probe(tmp_path / name).frames == 15  # 2 s less a 0.5 s default transition, at 10 fps
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["deck.json", name, name[:-4] + ".png"])


def test_temporary_names_stay_within_255_bytes_for_long_and_multibyte_names(tmp_path):
    for name in ["a" * 251 + ".mp4", "é" * 125 + ".mp4", "short.mp4"]:
        target = tmp_path / name
        assert len(os.fsencode(name)) <= 255
        with atomic_output(target, "job123456789") as temporary:
            assert len(os.fsencode(temporary.name)) <= 255 and temporary.name.startswith(".")
            assert temporary.suffix == ".mp4"
            assert temporaries_of(target, "job123456789") == [temporary]
            with atomic_output(temporary) as nested:  # the audio mux's and the cover's temporary of it
                assert len(os.fsencode(nested.name)) <= 255
                nested.write_bytes(b"video")
                assert nested in temporaries_of(target, "job123456789")
            assert [t.pid for t in temporaries_in(tmp_path)] == [os.getpid()]
        assert target.read_bytes() == b"video"
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_two_outputs_writing_one_file_are_refused_up_front(tmp_path, capsys):
    out = tmp_path / "out"
    line = main_fails_fast(["render", write_deck(tmp_path), *SMALL, "-p", "160x90@10", "-o", out], capsys)
    assert line == (
        f"reel: error: {out / 'deck-160x90@10.mp4'}: two outputs of this render would write this one file "
        "(160x90@10 twice); ask for each once"
    )
    assert not out.exists() or list(out.iterdir()) == []


def test_a_job_with_one_platform_twice_is_refused_before_any_file(tmp_path):
    from engine.jobs import OutputRequest, RenderJob, run_job

    deck = json.loads(write_deck(tmp_path).read_text())
    job = RenderJob.for_deck(
        deck, [OutputRequest("160x90@10"), OutputRequest("160x90@10")], out_dir=tmp_path / "out", compositor="cpu"
    )
    with pytest.raises(OutputError, match="two outputs of this render would write this one file"):
        run_job(job)
    assert not (tmp_path / "out").exists()


def test_duplicates_are_found_through_other_spellings_of_a_path(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(OutputError, match=r"\(outputs 1 and 2\)"):
        refuse_duplicate_targets([tmp_path / "a" / "x.mp4", tmp_path / "a" / ".." / "a" / "x.mp4"])
    refuse_duplicate_targets([tmp_path / "a" / "x.mp4", tmp_path / "a" / "y.mp4"])


def test_a_render_that_replaces_a_file_says_so(tmp_path, capsys):
    deck, out = write_deck(tmp_path), tmp_path / "out"
    assert cli.main(["render", str(deck), *SMALL, "-o", str(out), "--report", str(tmp_path / "first.json")]) == 0
    first = capsys.readouterr().out
    assert cli.main(["render", str(deck), *SMALL, "-o", str(out), "--report", str(tmp_path / "second.json")]) == 0
    second = capsys.readouterr().out
    assert json.loads((tmp_path / "first.json").read_text())["outputs"][0]["replaced"] is False
    assert json.loads((tmp_path / "second.json").read_text())["outputs"][0]["replaced"] is True
    assert "replaced the file that was there" in second and "replaced" not in first


def test_the_python_api_also_checks_first_and_says_replaced(tmp_path):
    from engine import render

    (tmp_path / "x.mp4").mkdir()
    deck = json.loads(write_deck(tmp_path).read_text())
    with pytest.raises(OutputError, match="is a folder"):
        render(deck, tmp_path / "x.mp4", platform="160x90@10", quality="draft", compositor="cpu")
    assert render(deck, tmp_path / "y.mp4", platform="160x90@10", quality="draft", compositor="cpu").replaced is False
    assert render(deck, tmp_path / "y.mp4", platform="160x90@10", quality="draft", compositor="cpu").replaced is True


# -- --report ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where, message",
    [
        ("folder", "{report}: is a folder; name a file that is not one"),
        ("missing", "{report}: the folder {folder} does not exist"),
    ],
)
def test_report_into_a_folder_or_a_missing_folder_fails_before_rendering(tmp_path, capsys, where, message):
    out = tmp_path / "out"
    if where == "folder":
        report = tmp_path / "reports"
        report.mkdir()
    else:
        report = tmp_path / "missing" / "r.json"
    line = main_fails_fast(["render", write_deck(tmp_path), *SMALL, "-o", out, "--report", report], capsys)
    assert line == "reel: error: " + message.format(report=report, folder=report.parent)
    assert not out.exists() or list(out.iterdir()) == []  # no video without its report


def test_report_that_is_the_video_or_a_named_fifo_is_refused_before_rendering(tmp_path, capsys):
    deck, out = write_deck(tmp_path), tmp_path / "out"
    video = out / "deck-160x90@10.mp4"
    line = main_fails_fast(["render", deck, *SMALL, "-o", out, "--report", video], capsys)
    assert (
        line
        == f"reel: error: {video}: two outputs of this render would write this one file (160x90@10 and --report); ask for each once"
    )
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)  # nobody reads it: writing would block or fail after the render
    line = main_fails_fast(["render", deck, *SMALL, "-o", out, "--report", fifo], capsys)
    assert line == f"reel: error: {fifo}: is a FIFO, not a regular file; choose another name"
    assert not out.exists() or list(out.iterdir()) == []


def test_a_thumbnail_that_cannot_be_written_fails_before_the_video(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "deck-160x90@10.png").mkdir(parents=True)
    line = main_fails_fast(["render", write_deck(tmp_path), *SMALL, "-o", out, "--thumbnail"], capsys)
    assert line == f"reel: error: {out / 'deck-160x90@10.png'}: is a folder; name a file that is not one"
    assert [p.name for p in out.iterdir()] == ["deck-160x90@10.png"]


def test_report_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    from engine.report import write_reports

    report = tmp_path / "r.json"
    report.write_text('{"outputs": []}\n')
    real_write = Path.write_text

    def half_then_full(self, text, *args, **kwargs):
        real_write(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_full)
    with pytest.raises(InsufficientResourcesError, match=f"{report}: no space left on the device"):
        write_reports(report, {"outputs": [{"path": "x"}] * 100})
    monkeypatch.undo()
    assert report.read_text() == '{"outputs": []}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_report_to_a_device_is_written_as_it_is(tmp_path):
    result = reel("render", write_deck(tmp_path), *SMALL, "-o", tmp_path / "out", "--report", "/dev/stdout", "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outputs"][0]["frames"] == 15


# -- still, written atomically --------------------------------------------------------------------


def test_still_failing_mid_write_leaves_nothing_and_keeps_the_old_file(tmp_path, monkeypatch, capsys):
    from PIL import Image

    deck, out = write_deck(tmp_path), tmp_path / "f.png"
    out.write_bytes(b"the previous still")

    def truncated(self, fp, format=None, **params):
        Path(fp).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", truncated)
    assert cli.main(["still", str(deck), *SMALL, "-o", str(out)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert line == f"reel: error: {out}: no space left on the device; free some space or write elsewhere"
    assert out.read_bytes() == b"the previous still"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.json", "f.png"]


def test_still_into_a_folder_that_is_a_file_fails_before_the_frame(tmp_path, capsys):
    (tmp_path / "stills").write_text("a file")
    line = main_fails_fast(["still", write_deck(tmp_path), *SMALL, "-o", tmp_path / "stills" / "f.png"], capsys)
    assert line == f"reel: error: {tmp_path / 'stills'}: the output folder is a regular file, not a folder"


# -- the OS errors every path maps ----------------------------------------------------------------


@pytest.mark.parametrize(
    "code, kind, words",
    [
        (errno.ENOSPC, InsufficientResourcesError, "no space left on the device"),
        (errno.EDQUOT, InsufficientResourcesError, "disk quota exceeded"),
        (errno.EROFS, OutputError, "the file system is read-only"),
        (errno.EACCES, OutputError, "no permission to write there"),
        (errno.EPERM, OutputError, "no permission to write there"),
        (errno.EISDIR, OutputError, "is a folder"),
        (errno.EFBIG, OutputError, "larger than the file system allows"),
        (errno.EIO, OutputError, "cannot write: Input/output error"),
    ],
)
def test_each_os_error_becomes_one_typed_line_naming_the_path(tmp_path, code, kind, words):
    error = output_error(OSError(code, os.strerror(code)), tmp_path / "x.mp4")
    assert type(error) is kind and str(error).startswith(f"{tmp_path / 'x.mp4'}: ") and words in str(error)
    assert "\n" not in str(error) and error.user_error


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_or_quota_under_an_encoder_error_is_insufficient_resources(tmp_path, code):
    target = tmp_path / "x.mp4"
    with pytest.raises(InsufficientResourcesError, match=f"{target}: ") as caught, atomic_output(target) as temporary:
        temporary.write_bytes(b"half")
        try:
            raise OSError(code, os.strerror(code))
        except OSError as exc:
            raise RenderError("libx264 failed at frame 9: Generic error") from exc
    assert isinstance(caught.value.__cause__, RenderError)
    assert list(tmp_path.iterdir()) == []


def test_other_failures_pass_through_atomic_output_unchanged(tmp_path):
    with pytest.raises(RenderError, match="a real bug"), atomic_output(tmp_path / "x.mp4"):
        raise RenderError("a real bug")
    assert list(tmp_path.iterdir()) == []


# -- a folder without write permission ------------------------------------------------------------


def _drop_dac_override() -> None:  # in the child, before exec
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _unprivileged() -> dict:
    """subprocess arguments for a child that file permissions bind.

    Root ignores them; its child without CAP_DAC_OVERRIDE (dropped from the bounding
    set, so exec grants it no more) does not, and can still run this Python, which may
    live in root's 0700 home, where os.setuid(65534) could not.
    """
    return {"preexec_fn": _drop_dac_override} if os.geteuid() == 0 else {}


def test_folder_without_write_permission(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        probe_write = subprocess.run(
            [sys.executable, "-c", f"open({str(folder / 'probe')!r}, 'w')"],
            capture_output=True,
            check=False,
            **_unprivileged(),
        )
        if probe_write.returncode == 0:
            pytest.skip("this process writes into a 0555 folder even without CAP_DAC_OVERRIDE")
        result = reel("render", write_deck(tmp_path), *SMALL, "-o", folder, **_unprivileged())
        assert result.returncode == 2, result.stderr
        line = one_line_error(result.stderr)
        assert line == f"reel: error: {folder / 'deck-160x90@10.mp4'}: no permission to write there; write elsewhere"
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


# -- mounted file systems: read-only and full -----------------------------------------------------

_INNER = textwrap.dedent("""
    import json, os, subprocess, sys, time
    mount, code, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    left = sorted(os.path.relpath(os.path.join(d, f), mount) for d, _, files in os.walk(mount) for f in files)
    print(json.dumps({"rc": run.returncode, "stderr": run.stderr, "seconds": time.monotonic() - started, "left": left}))
""")
_CLI = "import sys; from engine import cli; sys.exit(cli.main(sys.argv[1:]))"
# The size check before rendering would refuse a tiny disk; without it the disk fills mid-render.
_CLI_WITHOUT_SIZE_CHECK = "import sys, engine.output as o; o.estimate_bytes = lambda *a: 0; from engine import cli; sys.exit(cli.main(sys.argv[1:]))"


def on_tmpfs(tmp_path: Path, options: str, setup: str, code: str, args: list) -> dict:
    """Mount a tmpfs at tmp_path/mnt in a private mount namespace (`unshare -m` as root,
    `unshare -rm` otherwise), run `setup` (shell) then Python `code` with `args` in it,
    and report its exit code, stderr and the files left on the tmpfs."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no unshare(1) to mount a tmpfs in a private mount namespace")
    mount = tmp_path / "mnt"
    mount.mkdir()
    (tmp_path / "inner.py").write_text(_INNER)
    script = f'mount -t tmpfs -o {options} tmpfs "$1" || exit 97; {setup}; shift; exec "$@"'
    flags = ["-m"] if os.geteuid() == 0 else ["-rm"]
    check = subprocess.run(
        [unshare, *flags, "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$1"', "sh", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here (unshare {' '.join(flags)}: {check.stderr.strip() or check.returncode})"
        )
    result = subprocess.run(
        [
            unshare,
            *flags,
            "sh",
            "-c",
            script,
            "sh",
            str(mount),
            sys.executable,
            str(tmp_path / "inner.py"),
            str(mount),
            code,
            *map(str, args),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_read_only_file_system(tmp_path):
    mount = tmp_path / "mnt"
    deck = write_deck(tmp_path)
    found = on_tmpfs(
        tmp_path,
        "size=1m",
        'mkdir "$1/out" && mount -o remount,ro "$1"',
        _CLI,
        ["render", deck, *SMALL, "-o", mount / "out"],
    )
    assert found["rc"] == 2, found["stderr"]
    line = one_line_error(found["stderr"])
    assert line == f"reel: error: {mount / 'out' / 'deck-160x90@10.mp4'}: the file system is read-only; write elsewhere"
    assert found["left"] == []


def test_read_only_file_system_missing_folder(tmp_path):
    mount = tmp_path / "mnt"
    found = on_tmpfs(
        tmp_path, "size=1m,ro", "true", _CLI, ["render", write_deck(tmp_path), *SMALL, "-o", mount / "new" / "out"]
    )
    assert found["rc"] == 2, found["stderr"]
    line = one_line_error(found["stderr"])
    assert line == f"reel: error: {mount / 'new' / 'out'}: the file system is read-only; write elsewhere"


def test_a_disk_too_small_is_refused_before_rendering(tmp_path):
    mount = tmp_path / "mnt"
    deck = write_deck(tmp_path, slides=4, seconds=5.0)
    found = on_tmpfs(
        tmp_path, "size=64k", "true", _CLI, ["render", deck, "-p", "youtube", "--quality", "draft", "-o", mount]
    )
    assert found["rc"] == 2, found["stderr"]
    assert "MB free, this render may need" in one_line_error(found["stderr"])
    assert found["left"] == [] and found["seconds"] < 10


def test_a_disk_that_fills_mid_render_is_insufficient_resources_and_leaves_nothing(tmp_path):
    mount = tmp_path / "mnt"
    deck = write_deck(tmp_path, slides=4, seconds=5.0)  # ~100 KB of draft video, more than the 48 KB disk
    found = on_tmpfs(
        tmp_path,
        "size=48k",
        "true",
        _CLI_WITHOUT_SIZE_CHECK,
        ["render", deck, "-p", "640x360@30", "--quality", "draft", "--compositor", "cpu", "-o", mount, "-q"],
    )
    assert found["rc"] == 2, found["stderr"]
    line = one_line_error(found["stderr"])
    assert line.startswith(f"reel: error: {mount / 'deck-320x180@15-draft.mp4'}: no space left on the device"), line
    assert found["left"] == []


# -- what killed renders leave -----------------------------------------------------------------------


def start_render_and_kill_it(tmp_path: Path, out: Path) -> list[Path]:
    """Start a render, SIGKILL it once its temporary exists; the temporary it left."""
    deck = write_deck(tmp_path, "long", slides=20, seconds=5.0)
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "render",
            str(deck),
            "-p",
            "640x360@30",
            "--quality",
            "draft",
            "--compositor",
            "cpu",
            "-o",
            str(out),
            "-q",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        left = [p for p in out.glob(".*.part*")] if out.exists() else []
        if left:
            break
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stderr.close()
    # The video's temporary, and the working files named as its kin (the stash of frames
    # kept for the end).
    left = sorted(out.glob(".*.part*"))
    assert left, "no temporary to find"
    assert all(f".p{child.pid}-" in path.name for path in left), left  # the writer is in each name
    return left


def test_the_next_render_into_the_folder_removes_what_a_killed_render_left(tmp_path):
    out = tmp_path / "out"
    stale = start_render_and_kill_it(tmp_path, out)
    result = reel("render", write_deck(tmp_path), *SMALL, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert not any(path.exists() for path in stale)
    assert sorted(p.name for p in out.iterdir()) == ["deck-160x90@10.mp4"]


def test_doctor_clean_removes_what_a_killed_render_left_and_says_so(tmp_path):
    out = tmp_path / "out"
    stale = start_render_and_kill_it(tmp_path, out)
    other_host = out / ".deck.0badf0.p1-abc-00000000.part.mp4"
    older = out / ".deck.job-deadbeef.part.mp4"  # a name that records no writer
    for path in (other_host, older):
        path.write_bytes(b"kept")
    result = reel("doctor", "--clean", out)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    for path in stale:
        assert any(line.startswith(f"removed {path} (process ") and line.endswith("no longer runs)") for line in lines)
    assert any(line.startswith(f"kept {other_host}: written on another host") for line in lines)
    assert any(line.startswith(f"kept {older}: its name records no writer") for line in lines)
    removed = f"{len(stale)} stale temporary file" + ("s" if len(stale) > 1 else "")
    assert lines[-1] == f"{out}: removed {removed}, kept 2"
    assert not any(path.exists() for path in stale) and other_host.exists() and older.exists()


def test_a_running_writers_temporary_is_kept_and_a_reused_pid_is_not_its_writer(tmp_path):
    from engine.doctor import clean

    target = tmp_path / "x.mp4"
    with atomic_output(target) as live:
        host = live.name.split(".part")[0].rsplit("-", 1)[1]
        reused = tmp_path / f".y.abcdef.p{os.getpid()}-1-{host}.part.mp4"  # our pid, started in 1970
        reused.write_bytes(b"stale")
        assert remove_stale_temporaries(tmp_path) == [reused]
        result = clean(tmp_path)
        assert result["removed"] == [] and result["kept"] == [str(live)]
        assert result["lines"][0] == f"kept {live}: process {os.getpid()} is still writing it"
        live.write_bytes(b"video")
    assert target.read_bytes() == b"video"


def test_doctor_clean_of_something_that_is_not_a_folder(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert cli.main(["doctor", "--clean", str(tmp_path / "file")]) == 2
    assert (
        one_line_error(capsys.readouterr().err)
        == f"reel: error: {tmp_path / 'file'}: not a folder; give the folder to clean"
    )
    assert cli.main(["doctor", "--clean", str(tmp_path / "nothing")]) == 2
    assert one_line_error(capsys.readouterr().err) == f"reel: error: {tmp_path / 'nothing'}: no such folder to clean"


def test_render_many_refuses_one_platform_twice_and_says_what_it_replaced(tmp_path):
    from engine import render_many
    from engine.errors import OutputError

    deck = {"slides": [{"kind": "title", "title": "Twice", "duration": 1.0}]}
    with pytest.raises(OutputError, match="two outputs of this render would write this one file"):
        render_many(deck, tmp_path, ["160x90@10", "160x90@10"], quality="draft", jobs=1)
    assert list(tmp_path.iterdir()) == []
    (first,) = render_many(deck, tmp_path, ["160x90@10"], quality="draft", jobs=1)
    (again,) = render_many(deck, tmp_path, ["160x90@10"], quality="draft", jobs=1)
    assert not first.replaced and again.replaced


def test_render_many_into_a_folder_that_is_a_file_is_an_output_error(tmp_path):
    from engine import render_many
    from engine.errors import OutputError

    blocker = tmp_path / "out"
    blocker.write_text("a file, not a folder")
    with pytest.raises(OutputError):
        render_many(
            {"slides": [{"kind": "title", "title": "x", "duration": 1.0}]}, blocker, ["160x90@10"], quality="draft"
        )
