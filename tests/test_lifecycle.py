"""`reel render` stopped from outside, or past its time: real processes, real signals.

Every test starts `reel render` in its own session (so its signals reach nobody else),
waits on what it writes rather than on sleeps, and kills whatever is left at the end.
What is checked each time: the exit code and the one line said, that no process of the
render outlives it by more than a few seconds (workers, and multiprocessing's resource
tracker), and that the output folder holds finished videos only.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from engine.jobs import JobState, JobStore, OutputRequest, RenderJob
from engine.jobs.executor import describe_outcome
from engine.jobs.supervisor import Supervisor
from engine.settings import Settings

COLOURS = ["#c0392b", "#2980b9", "#27ae60", "#8e44ad"]
SMALL, LARGE = "160x90@10", "640x360@30"
# Seconds every process of a stopped render has to be gone in: a bound on waiting, not
# a speed check (they go in well under a second; a loaded 2-core machine once took 5.2).
GONE_WITHIN = 15.0
SHADER = """// A transition whose every pixel loops `n` times.
uniform float n; // = 10.0
vec4 transition(vec2 uv) {
    float acc = 0.0;
    for (float i = 0.0; i < n; i += 1.0) { acc += sin(i * uv.x) * 1e-9; }
    return mix(getFromColor(uv), getToColor(uv), clamp(progress + acc, 0.0, 1.0));
}
"""


def write_deck(folder: Path, slides: int = 30, transition: dict | None = None) -> Path:
    """A deck of `slides` one-second slides joined by fades: most frames are composited."""
    deck = {
        "title": "Lifecycle",
        "defaults": {"transition": transition or {"name": "fade", "duration": 0.45}},
        "slides": [
            {"kind": "title", "title": f"Slide {i}", "duration": 1.0, "background": COLOURS[i % 4]}
            for i in range(slides)
        ],
    }
    path = folder / "deck.json"
    path.write_text(json.dumps(deck))
    return path


class Render:
    """One `reel render` in a session of its own; `close` kills what is left of it."""

    def __init__(self, tmp_path: Path, *args: str, env: dict | None = None) -> None:
        self.out = tmp_path / "out"
        command = [sys.executable, "-m", "engine.cli", "render", *map(str, args), "-o", str(self.out), "-q"]
        self.child = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        self.family: dict[int, psutil.Process] = {}

    def watch(self) -> list[psutil.Process]:
        """Remember every process of the render now alive (workers, the resource tracker)."""
        try:
            for process in psutil.Process(self.child.pid).children(recursive=True):
                self.family[process.pid] = process
        except psutil.NoSuchProcess:
            pass
        return list(self.family.values())

    def files(self) -> list[str]:
        return sorted(p.name for p in self.out.iterdir()) if self.out.exists() else []

    def partials(self) -> list[str]:
        return [name for name in self.files() if name.startswith(".")]

    def writing(self) -> set[str]:
        """The outputs being written: one each, however many working files it has beside
        its temporary (they share its name up to the random part)."""
        return {re.sub(r"[0-9a-f]{6}\.p\d+-.*$", "", name) for name in self.partials()}

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        _, stderr = self.child.communicate(timeout=timeout)
        return self.child.returncode, stderr

    def alive(self) -> list[psutil.Process]:
        living = []
        for process in self.family.values():
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    living.append(process)
            except psutil.NoSuchProcess:
                pass
        return living

    def close(self) -> None:
        for process in [*self.alive()]:
            process.kill()
        if self.child.poll() is None:
            self.child.kill()
            self.child.communicate()


@pytest.fixture
def render(tmp_path):
    started: list[Render] = []

    def start(*args: str, env: dict | None = None) -> Render:
        started.append(Render(tmp_path, *args, env=env))
        return started[-1]

    yield start
    for one in started:
        one.close()


def wait_until(condition, timeout: float = 90, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def gone_after(run: Render, since: float) -> float:
    """Seconds from `since` until no process of `run` is left (fails past GONE_WITHIN)."""
    wait_until(lambda: not run.alive(), timeout=GONE_WITHIN, what=f"{[p.pid for p in run.alive()]} to exit")
    return time.monotonic() - since


# -- the parent killed, or told to stop ---------------------------------------------------


def test_kill_9_of_the_parent_leaves_no_process_and_no_file_behind(tmp_path, render):
    run = render(write_deck(tmp_path), "-p", LARGE, "-p", "360x640@30", "-j", "2")
    wait_until(lambda: len(run.writing()) == 2 or run.child.poll() is not None, what="both outputs to be writing")
    assert run.child.poll() is None, run.finish()
    family = run.watch()
    assert len(family) >= 2  # two workers, and multiprocessing's resource tracker
    killed = time.monotonic()
    os.kill(run.child.pid, signal.SIGKILL)
    run.child.wait(10)
    seconds = gone_after(run, killed)
    # Each worker got SIGTERM from the kernel (parent-death signal) and removed its partial file.
    wait_until(lambda: run.files() == [], timeout=GONE_WITHIN, what=f"no files left, found {run.files()}")
    print(f"kill -9: every process gone {seconds:.2f} s after")


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_stops_every_worker_at_once_and_says_what_was_kept(tmp_path, render, name):
    run = render(write_deck(tmp_path), "-p", SMALL, "-p", LARGE, "-j", "2")
    small = "deck-160x90@10.mp4"  # the large one is still being written when the signal comes
    wait_until(
        lambda: small in run.files() and run.partials() or run.child.poll() is not None,
        what="the small output to finish while the large one is written",
    )
    assert run.child.poll() is None, run.finish()
    run.watch()
    sent = time.monotonic()
    os.kill(run.child.pid, getattr(signal, name))
    code, stderr = run.finish(timeout=30)
    exited = time.monotonic() - sent
    assert code == 130, stderr
    assert stderr == f"reel: interrupted ({name}); kept 1 finished video ({run.out / small}), removed 1 partial file\n"
    # (The large output removed as partial shows the render was stopped, not waited for.)
    seconds = gone_after(run, sent)
    assert run.files() == [small]
    print(f"{name}: exit {exited:.2f} s after, every process gone {seconds:.2f} s after")


def test_an_orphaned_worker_stuck_in_a_call_that_holds_the_gil_still_ends(tmp_path):
    """A worker inside a GL call that never returns cannot run its SIGTERM handler (the
    call holds the GIL), so the parent-death signal alone leaves it running; the dead-man's
    timer, a C thread, ends it. Here the stuck call is `sum` over a huge range: like
    moderngl's draw, it computes in C holding the GIL, and checks for no signal."""
    worker = textwrap.dedent("""
        import signal, sys
        from engine.jobs.worker import die_with_parent
        signal.signal(signal.SIGTERM, lambda *args: sys.exit(1))  # what a worker's handler does
        die_with_parent(dead_man=4.0)
        print("stuck", flush=True)
        sum(range(10**13))
    """)
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {worker!r}]).wait()"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert parent.stdout.readline() == "stuck\n"
        child = psutil.Process(parent.pid).children()[0]
        os.kill(parent.pid, signal.SIGKILL)
        killed = time.monotonic()
        parent.wait(10)
        time.sleep(0.5)
        assert child.is_running() and child.status() != psutil.STATUS_ZOMBIE  # SIGTERM could not end it
        wait_until(
            lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, timeout=10, what="the timer"
        )
        assert time.monotonic() - killed < 4.0 + 3.0
    finally:
        for process in psutil.Process(parent.pid).children(recursive=True) if parent.poll() is None else []:
            process.kill()
        parent.kill()
        parent.wait()
        try:
            child.kill()
        except (psutil.Error, NameError):
            pass


def test_what_a_stopped_render_left_is_said_in_a_few_words():
    assert describe_outcome([], 0) == "no files were written"
    assert describe_outcome([], 2) == "no video was finished, removed 2 partial files"
    assert (
        describe_outcome(["out/a.mp4", "out/b.mp4"], 1)
        == "kept 2 finished videos (out/a.mp4, out/b.mp4), removed 1 partial file"
    )


# -- time limits --------------------------------------------------------------------------


def test_timeout_of_one_output_fails_in_one_line_and_leaves_nothing(tmp_path, render):
    # Two minutes of fades: several seconds of work however fast the machine (30 slides
    # once took just over the limit, and a faster engine finished them inside it).
    run = render(write_deck(tmp_path, slides=120), "-p", LARGE, "--timeout", "1")
    started = time.monotonic()
    code, stderr = run.finish()
    assert code == 2, stderr
    assert (
        stderr.startswith("reel: error: 640x360@30: the render ran past its time limit of 1 s (")
        and stderr.count("\n") == 1
    )
    assert time.monotonic() - started < 30
    assert run.files() == []


@pytest.mark.slow  # about 10 s: the limit itself is 8
def test_the_timeout_setting_stops_several_outputs_and_their_workers(tmp_path, render):
    # Long enough that neither output can finish inside the limit, even when one worker
    # gets the machine to itself (holds cost almost nothing since they are skip frames).
    run = render(
        write_deck(tmp_path, slides=180),
        "-p",
        "1280x720@30",
        "-p",
        "720x1280@30",
        "-j",
        "2",
        env={"REEL_RENDER_TIMEOUT": "8"},
    )
    seen_partials = False
    while run.child.poll() is None:  # note whether the workers had begun writing before the limit
        run.watch()
        seen_partials = seen_partials or bool(run.partials())
        time.sleep(0.02)
    ended = time.monotonic()
    code, stderr = run.finish()
    assert code == 2, stderr
    assert stderr.startswith("reel: error: the render ran past its time limit of 8 s and was stopped; ")
    assert stderr.count("\n") == 1
    assert ("removed 2 partial files" in stderr) == seen_partials, stderr
    assert run.files() == [] and run.family  # neither video finished, and workers had started
    gone_after(run, ended)


def test_a_worker_that_stops_sending_frames_is_stopped_and_its_job_fails_with_a_timeout(tmp_path):
    """A stopped process stands for a worker inside a GL call that never returns: it
    answers no signal but SIGKILL, and sends nothing."""
    settings = Settings(home=tmp_path / "home", cache_size_gb=0, retry_backoff_s=0.1)
    store = JobStore(settings.home)
    out = tmp_path / "out" / "stuck.mp4"
    job = RenderJob.for_deck(
        json.loads(write_deck(tmp_path, slides=180).read_text()),
        [OutputRequest(platform=LARGE, path=str(out))],
        compositor="cpu",
    )
    supervisor = Supervisor(store, settings, workers=1, frame_timeout=1.0, quiet=True)
    store.submit(job, max_attempts=3, queue_max=10)
    import threading

    thread = threading.Thread(target=supervisor.run, kwargs={"drain": True, "grace": 0}, daemon=True)
    thread.start()
    try:
        record = wait_until(
            lambda: (r := store.get(job.id)).progress and r.progress["frames_done"] > 0 and r, what="frames"
        )
        worker = psutil.Process(int(record.worker.split("@")[0]))
        worker.suspend()
        stopped = time.monotonic()
        thread.join(60)
        assert not thread.is_alive()
    finally:
        supervisor.stop()
        thread.join(30)
    final = store.get(job.id)
    assert final.state == JobState.FAILED and final.attempts == 1  # not retried: it would stall again
    assert final.error_type == "RenderTimeoutError" and final.error_message.startswith("no frame for 1 s at frame ")
    assert time.monotonic() - stopped < 1.0 + 5.0 + 5.0  # the budget, SIGTERM's grace, slack
    assert not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE
    assert sorted(p.name for p in out.parent.iterdir()) == []


# -- a user shader that would take forever --------------------------------------------------


@pytest.fixture
def software_gl(gl_compositor):
    compositor = gl_compositor(16, 16)  # skips, saying why, where no EGL context can be made
    if compositor.kind != "gl-software":
        pytest.skip(f"the shader costs are calibrated for llvmpipe, not {compositor.renderer}")


@pytest.mark.gl
def test_a_user_shader_too_slow_for_a_frame_is_refused_before_its_first_frame(tmp_path, software_gl):
    from engine.composite import FrameSpec, open_compositor
    from engine.errors import RenderTimeoutError
    from engine.usershader import read_user_transition, resolve_user_params, user_transition_key

    file = tmp_path / "Loops.glsl"
    file.write_text(SHADER)
    comp = open_compositor("gl", 1920, 1080, glsl_files=[file])
    try:
        image = np.zeros((1080, 1920, 3), np.uint8)
        source, target = comp.upload("a", image), comp.upload("b", image)
        comp.compile_transition(file)
        params = resolve_user_params(read_user_transition(file), {"n": 20000})
        started = time.monotonic()
        with pytest.raises(
            RenderTimeoutError, match=r"Loops\.glsl: a 1920x1080 frame of this transition would take about \d+ s"
        ):
            comp.render(FrameSpec(source, target, user_transition_key(file), 0.5, params))
        assert time.monotonic() - started < 5  # the frame itself would take minutes
        cheap = resolve_user_params(read_user_transition(file), {"n": 1})
        comp.render(FrameSpec(source, target, user_transition_key(file), 0.5, cheap))  # a cheap one still runs
        comp.frame_budget = 1e-6  # and every frame is timed
        with pytest.raises(RenderTimeoutError, match=r"a 1920x1080 frame of this transition took [\d.]+ s"):
            comp.render(FrameSpec(source, target, user_transition_key(file), 0.6, cheap))
    finally:
        comp.close()


@pytest.mark.gl
def test_reel_render_with_a_never_ending_user_shader_fails_in_one_line(tmp_path, render, software_gl):
    file = tmp_path / "Loops.glsl"
    file.write_text(SHADER)
    deck = write_deck(tmp_path, slides=3, transition={"file": str(file), "duration": 0.5, "params": {"n": 60000}})
    run = render(deck, "-p", "youtube")
    code, stderr = run.finish(timeout=120)
    assert code == 2, stderr
    assert stderr.startswith("reel: error: Loops.glsl: a 1920x1080 frame of this transition would take about ")
    assert stderr.count("\n") == 1
    assert run.files() == []
