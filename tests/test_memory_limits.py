"""Memory as a container sees it: RLIMIT_AS and cgroup limits, with real processes.

Each limit is set on a real `reel render` child (RLIMIT_AS through `setrlimit` before
exec, as `prlimit --as` and `ulimit -v` do; a memory cgroup where this machine lets the
test make one) and the answer checked: exit 2, one line naming the limit and the need,
no traceback, no file. A render that gets past the pre-check and then runs out is made
on purpose too: whatever fails then is said the same way.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from engine import _host
from engine.errors import InsufficientResourcesError

MB = 10**6


def write_deck(folder: Path) -> Path:
    deck = {
        "title": "Memory",
        "defaults": {"transition": {"name": "fade", "duration": 0.5}},
        "slides": [
            {"kind": "title", "title": "One", "duration": 1.5},
            {"kind": "bullets", "title": "Two", "bullets": ["a", "b"], "duration": 1.5},
        ],
    }
    path = folder / "deck.json"
    path.write_text(json.dumps(deck))
    return path


def address_space(limit: int):
    """A preexec_fn: the child's address space limited as `prlimit --as=limit` would."""
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def reel(*args, preexec_fn=None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *map(str, args)],
        capture_output=True,
        text=True,
        preexec_fn=preexec_fn,
        timeout=timeout,
        check=False,
    )


def said(stderr: str) -> list[str]:
    """stderr without the lines native libraries print themselves when their malloc fails
    (x264's "x264 [error]: malloc of size … failed" goes straight to fd 2)."""
    return [line for line in stderr.splitlines() if not line.startswith("x264 [")]


# -- RLIMIT_AS (prlimit --as, ulimit -v) --------------------------------------------------


def test_300_mb_of_address_space_is_refused_before_anything_loads(tmp_path):
    result = reel(
        "render", write_deck(tmp_path), "-p", "youtube", "-o", tmp_path / "out", preexec_fn=address_space(300 * MB)
    )
    assert result.returncode == 2, result.stderr
    assert said(result.stderr) == [result.stderr.strip()]  # one line
    line = result.stderr.strip()
    assert line.startswith("reel: error: not enough address space: a 1920x1080 render needs about ")
    assert "the address-space limit (ulimit -v, RLIMIT_AS) is 300 MB" in line and "failed with" not in line
    need = int(line.split("needs about ")[1].split(" MB")[0])
    assert 500 < need < 1000
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_600_mb_at_1080p_is_insufficient_resources_not_an_encoder_error(tmp_path):
    """The 600 MB case of issue 11 ("libx264 failed at frame 9: Generic error")."""
    result = reel(
        "render", write_deck(tmp_path), "-p", "youtube", "-o", tmp_path / "out", preexec_fn=address_space(600 * MB)
    )
    assert result.returncode == 2, result.stderr
    lines = said(result.stderr)
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("reel: error: not enough address space: a 1920x1080 render needs ")
    assert "is 600 MB" in lines[0] and "libx264" not in lines[0].split("failed with")[0]
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_still_that_runs_out_of_address_space_says_so(tmp_path):
    out = tmp_path / "still.png"
    result = reel("still", write_deck(tmp_path), "-p", "youtube", "-o", out, preexec_fn=address_space(300 * MB))
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith(
        "reel: error: not enough address space: a 1920x1080 still needs more than 300 MB"
    )
    assert not out.exists() and list(tmp_path.glob(".*")) == []


def test_workers_under_an_address_space_limit_say_the_same_in_one_line(tmp_path):
    result = reel(
        "render",
        write_deck(tmp_path),
        "-p",
        "youtube",
        "-p",
        "tiktok",
        "-j",
        "2",
        "-o",
        tmp_path / "out",
        preexec_fn=address_space(400 * MB),
    )
    assert result.returncode == 2, result.stderr
    lines = said(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("reel: error: not enough address space: a 1"), result.stderr
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


# GL's limit stops the EGL context from starting (600 MB; 560-630 did, five runs each).
# Above ~650 the context starts and llvmpipe may crash on a failed allocation (SIGSEGV,
# nothing to catch): since `import engine` loads less, 700 MB got that far.
@pytest.mark.parametrize("compositor, limit_mb", [("cpu", 450), pytest.param("gl", 600, marks=pytest.mark.gl)])
def test_an_allocation_that_fails_mid_render_is_insufficient_resources(tmp_path, request, compositor, limit_mb):
    """Past a pre-check that let it through (here: none at all), the address space runs
    out wherever it runs out: a codec library that cannot be mapped, x264's next frame,
    the EGL context."""
    if compositor == "gl":
        request.getfixturevalue("gl_compositor")(16, 16)  # skips, saying why, without EGL
    script = textwrap.dedent(f"""
        import resource, sys
        from pathlib import Path
        import engine.pipeline as pipeline
        from engine.errors import InsufficientResourcesError
        from engine.platforms import resolve_output
        from engine.spec import load_deck

        pipeline.check_memory = lambda *args: None  # an estimate that was too low
        limit = {limit_mb * MB}
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            pipeline.render_output(load_deck(sys.argv[1]), resolve_output("youtube", "standard"), Path(sys.argv[2]),
                                   compositor="{compositor}")
        except InsufficientResourcesError as exc:
            print("InsufficientResourcesError:", exc)
        except BaseException as exc:
            print("other:", type(exc).__name__, exc)
        else:
            print("rendered")
    """)
    out = tmp_path / "out" / "video.mp4"
    result = subprocess.run(
        [sys.executable, "-c", script, str(write_deck(tmp_path)), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    said_line = result.stdout.strip().splitlines()[-1]
    assert said_line.startswith("InsufficientResourcesError: not enough address space: a 1920x1080 render needs "), (
        result.stdout + result.stderr
    )
    assert f"is {limit_mb} MB" in said_line and "(it failed with: " in said_line
    assert list(out.parent.iterdir()) == []


# -- a memory cgroup (v2 memory.max, v1 memory.limit_in_bytes) ------------------------------


def _memory_cgroup_root() -> tuple[Path, str] | None:
    """A cgroup folder where this process may make a child with a memory limit, and the limit's file."""
    if os.geteuid() != 0:
        return None
    candidates = []
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            candidates.append((Path("/sys/fs/cgroup") / path.lstrip("/"), "memory.max"))
        elif "memory" in controllers.split(","):
            candidates.append((Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes"))
    for folder, limit_file in candidates:
        if limit_file == "memory.max":  # v2: only where the memory controller reaches children
            control = folder / "cgroup.subtree_control"
            if not control.exists() or "memory" not in control.read_text().split():
                continue
        if os.access(folder, os.W_OK):
            return folder, limit_file
    return None


@pytest.fixture
def memory_cgroup():
    """`memory_cgroup(limit)` → a preexec_fn that moves the child into a fresh cgroup of that limit."""
    found = _memory_cgroup_root()
    if found is None:
        pytest.skip("no memory cgroup this test may create here (needs root and a writable memory controller)")
    root, limit_file = found
    made: list[Path] = []

    def make(limit: int):
        folder = root / f"reel-test-{uuid.uuid4().hex[:8]}"
        try:
            folder.mkdir()
            (folder / limit_file).write_text(str(limit))
        except OSError as exc:
            pytest.skip(f"cannot make a memory cgroup under {root}: {exc}")
        made.append(folder)
        procs = folder / "cgroup.procs"
        return lambda: procs.write_text(str(os.getpid()))

    make.limit_file = limit_file
    yield make
    for folder in made:  # empty once the render's last process has exited: wait for that
        for _ in range(100):
            try:
                folder.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def test_a_cgroup_limit_under_what_1080p_needs_is_refused_with_its_figures(tmp_path, memory_cgroup):
    move = memory_cgroup(150 * 2**20)
    result = reel("render", write_deck(tmp_path), "-p", "youtube", "-o", tmp_path / "out", preexec_fn=move)
    assert result.returncode == 2, result.stderr  # not 137: the kernel's OOM killer never came
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith("reel: error: not enough memory: a 1920x1080 render needs about ")
    assert f"the cgroup's {memory_cgroup.limit_file} of 157 MB" in line
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_workers_in_a_small_cgroup_are_refused_too(tmp_path, memory_cgroup):
    move = memory_cgroup(150 * 2**20)
    result = reel(
        "render", write_deck(tmp_path), "-p", "youtube", "-p", "tiktok", "-o", tmp_path / "out", preexec_fn=move
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "not enough memory" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


# -- the figures, from files a cgroup would hold ---------------------------------------------


@pytest.fixture
def no_proc_cgroup(monkeypatch):
    real = _host._read
    monkeypatch.setattr(_host, "_read", lambda path: None if str(path) == "/proc/self/cgroup" else real(path))


def test_the_cgroup_limit_counts_other_processes_but_not_reclaimable_cache(tmp_path, no_proc_cgroup, monkeypatch):
    monkeypatch.setattr(_host, "_own_rss", lambda: 50 * MB)
    (tmp_path / "memory.max").write_text(f"{400 * MB}\n")
    (tmp_path / "memory.current").write_text(f"{350 * MB}\n")
    (tmp_path / "memory.stat").write_text(f"anon {100 * MB}\ninactive_file {200 * MB}\nactive_file 0\n")
    assert _host.cgroup_memory(tmp_path) == (400 * MB, 150 * MB)  # 350 used, 200 of it cache it may drop
    limit = _host.memory_limit(tmp_path)
    assert limit.source == "cgroup" and limit.bytes == 300 * MB  # 400 less the 100 MB others hold
    assert limit.description == "the cgroup's memory.max of 400 MB (100 MB held by other processes)"
    with pytest.raises(
        InsufficientResourcesError,
        match=r"^not enough memory: a 1920x1080 render needs about 307 MB, "
        r"and the cgroup's memory.max of 400 MB \(100 MB held by other processes\) leaves 300 MB$",
    ):
        _host.check_memory("a 1920x1080 render", 307 * MB, 0, tmp_path)


def test_cgroup_v1_names_its_own_file(tmp_path, no_proc_cgroup, monkeypatch):
    monkeypatch.setattr(_host, "_own_rss", lambda: 0)
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text(f"{200 * MB}\n")
    (tmp_path / "memory" / "memory.usage_in_bytes").write_text(f"{30 * MB}\n")
    (tmp_path / "memory" / "memory.stat").write_text(f"total_inactive_file {25 * MB}\n")
    limit = _host.memory_limit(tmp_path)
    assert (limit.bytes, limit.description) == (195 * MB, "the cgroup's memory.limit_in_bytes of 200 MB")


def test_the_address_space_a_render_needs_grows_with_size_threads_and_gl():
    need = lambda w, h, threads=1, gl=False: _host.address_space_needed(w, h, encoder_threads=threads, gl=gl)
    assert need(320, 180) < need(1920, 1080) < need(3840, 2160)
    assert need(1920, 1080) < need(1920, 1080, threads=2) < need(1920, 1080, threads=8)
    assert need(1920, 1080, gl=True) - need(1920, 1080) > 250 * MB
    # Under what a fresh process was measured to need (module docstring), never over by much.
    assert 550 * MB < need(1920, 1080) < 618 * MB and need(1920, 1080, threads=2) < 712 * MB


def test_allocation_failures_are_recognised_through_the_chain(monkeypatch):
    monkeypatch.setattr(_host, "address_space_exhausted", lambda: False)
    mapped = ImportError("libx265-f5385bb8.so.216: failed to map segment from shared object")
    wrapped = RuntimeError("PyAV is not installed")
    wrapped.__cause__ = mapped
    assert _host.allocation_failure(wrapped)
    assert _host.allocation_failure(OSError(errno.ENOMEM, "Cannot allocate memory"))
    assert _host.allocation_failure(MemoryError())
    assert not _host.allocation_failure(RuntimeError("libx264 failed at frame 9: Generic error"))
    monkeypatch.setattr(_host, "address_space_exhausted", lambda: True)  # that same error, near RLIMIT_AS
    assert _host.allocation_failure(RuntimeError("libx264 failed at frame 9: Generic error"))


def test_a_worker_the_kernel_oom_kills_fails_its_job_with_insufficient_resources(tmp_path, monkeypatch):
    """The OOM killer's SIGKILL, told from any other by the cgroup's oom_kill count
    (faked here: a real one needs a render the pre-check lets through and the kernel then kills)."""
    import threading

    import psutil

    from engine.jobs import JobState, JobStore, OutputRequest, RenderJob
    from engine.jobs import supervisor as supervision
    from engine.settings import Settings

    kills = [3]
    monkeypatch.setattr(supervision, "cgroup_oom_kills", lambda: kills[0])
    settings = Settings(home=tmp_path / "home", cache_size_gb=0, retry_backoff_s=0.1)
    store = JobStore(settings.home)
    deck = {
        "slides": [
            {"kind": "title", "title": f"S{i}", "duration": 1, "transition": {"name": "fade", "duration": 0.5}}
            for i in range(40)
        ]
    }
    out = tmp_path / "out" / "big.mp4"
    job = RenderJob.for_deck(deck, [OutputRequest(platform="640x360@30", path=str(out))], compositor="cpu")
    store.submit(job, max_attempts=3, queue_max=10)
    supervisor = supervision.Supervisor(store, settings, workers=1, quiet=True)
    thread = threading.Thread(target=supervisor.run, kwargs={"drain": True, "grace": 0}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 90
        while not ((r := store.get(job.id)).progress and r.progress["frames_done"] > 0) and time.monotonic() < deadline:
            time.sleep(0.02)
        kills[0] += 1  # what the kernel counts as it kills
        psutil.Process(int(r.worker.split("@")[0])).kill()
        thread.join(60)
    finally:
        supervisor.stop()
        thread.join(30)
    final = store.get(job.id)
    assert final.state == JobState.FAILED and final.attempts == 1 and final.user_error
    assert final.error_type == "InsufficientResourcesError"
    assert (
        final.error_message.startswith("not enough memory: the kernel stopped worker ")
        and "cgroup ran out" in final.error_message
    )
    assert list(out.parent.iterdir()) == []
