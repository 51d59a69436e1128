"""Cores and memory as a container sees them: cgroup v1 and v2 files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import _host


@pytest.fixture
def no_proc_cgroup(monkeypatch):
    # Only the fake root's top-level files count, not this machine's /proc/self/cgroup.
    real = _host._read
    monkeypatch.setattr(_host, "_read", lambda path: None if str(path) == "/proc/self/cgroup" else real(path))


def test_cgroup_v2_cpu_quota_and_memory_limit(tmp_path, no_proc_cgroup):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    (tmp_path / "memory.max").write_text(f"{512 * 2**20}\n")
    (tmp_path / "memory.current").write_text(f"{200 * 2**20}\n")
    assert _host.cgroup_cpu_limit(tmp_path) == 1.5
    assert _host.usable_cores(tmp_path) == min(2, _host.usable_cores())
    assert _host.cgroup_memory(tmp_path) == (512 * 2**20, 200 * 2**20)
    assert _host.available_memory(tmp_path) <= 312 * 2**20


def test_cgroup_v2_without_limits(tmp_path, no_proc_cgroup):
    (tmp_path / "cpu.max").write_text("max 100000\n")
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.current").write_text("1000\n")
    assert _host.cgroup_cpu_limit(tmp_path) is None
    assert _host.cgroup_memory(tmp_path) == (None, 1000)
    assert _host.available_memory(tmp_path) > 0


def test_cgroup_v1_files(tmp_path, no_proc_cgroup):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1's "no limit"
    (tmp_path / "memory" / "memory.usage_in_bytes").write_text("5\n")
    assert _host.cgroup_cpu_limit(tmp_path) == 1.0
    assert _host.usable_cores(tmp_path) == 1
    assert _host.cgroup_memory(tmp_path) == (None, 5)


def test_a_quota_under_one_core_still_leaves_one(tmp_path, no_proc_cgroup):
    (tmp_path / "cpu.max").write_text("20000 100000\n")
    assert _host.usable_cores(tmp_path) == 1


def test_this_machine_reports_something_sane():
    assert _host.usable_cores() >= 1
    assert _host.available_memory() > 64 * 2**20


def test_tune_allocator_turns_huge_pages_off_for_the_process_and_its_children():
    status = Path("/proc/self/status")
    if not status.exists() or "THP_enabled:" not in status.read_text():
        pytest.skip("this kernel does not report THP_enabled (Linux 5.0+)")
    script = (
        "import ctypes, subprocess\n"
        "from engine import _host\n"
        "ctypes.CDLL(None).prctl(41, 0, 0, 0, 0)  # as a process not tuned yet (importing engine tuned it)\n"
        "_host._tuned = False\n"
        "def thp(): return [l for l in open('/proc/self/status') if l.startswith('THP_enabled')][0].split()[1]\n"
        "before = thp(); _host.tune_allocator(); after = thp()\n"
        "child = subprocess.run(['grep', 'THP_enabled', '/proc/self/status'], capture_output=True, text=True)\n"
        "print(before, after, child.stdout.split()[1])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "0", "0"]


def test_tune_allocator_runs_once_and_a_render_hands_free_memory_back(tmp_path, monkeypatch):
    calls = []

    class FakeLibc:
        def mallopt(self, option, value):
            calls.append(("mallopt", option, value))
            return 1

        def malloc_trim(self, pad):
            calls.append(("malloc_trim", pad))
            return 1

    monkeypatch.setattr(_host, "_tuned", False)
    monkeypatch.setattr(_host, "_glibc", lambda: FakeLibc())
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    from engine import render

    deck = {"slides": [{"kind": "title", "title": "A", "duration": 0.5}]}
    render(deck, tmp_path / "a.mp4", platform="160x90@10", quality="draft")
    render(deck, tmp_path / "b.mp4", platform="160x90@10", quality="draft")
    # M_MMAP_THRESHOLD (-3) at 2 MB, M_TRIM_THRESHOLD (-1) at 16 MB and M_ARENA_MAX (-8)
    # at 1, once; a trim after each render.
    assert calls == [
        ("mallopt", -3, 2 * 2**20),
        ("mallopt", -1, 16 * 2**20),
        ("mallopt", -8, 1),
        ("malloc_trim", 0),
        ("malloc_trim", 0),
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's arenas")
@pytest.mark.parametrize("arenas", [None, "4"])
def test_tune_allocator_serves_all_threads_from_one_arena_unless_told(arenas):
    # glibc's own report (malloc_info) counts the heaps after four threads allocated at once.
    script = (
        "import ctypes, os, sys, tempfile, threading\n"
        "import numpy as np\n"
        "from engine import _host\n"
        "if _host._glibc() is None: print('not glibc'); sys.exit()\n"
        "_host.tune_allocator()\n"
        "start = threading.Barrier(4)\n"
        "def work():\n"
        "    start.wait()\n"
        "    kept = [np.ones(100_000) for _ in range(20)]\n"
        "    start.wait()\n"
        "threads = [threading.Thread(target=work) for _ in range(4)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "libc = ctypes.CDLL('libc.so.6'); libc.fopen.restype = ctypes.c_void_p\n"
        "path = tempfile.mktemp()\n"
        "f = libc.fopen(path.encode(), b'w'); libc.malloc_info(0, ctypes.c_void_p(f)); libc.fclose(ctypes.c_void_p(f))\n"
        "print(open(path).read().count('<heap nr=')); os.remove(path)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    if arenas is not None:
        env["MALLOC_ARENA_MAX"] = arenas
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    if done.stdout.strip() == "not glibc":
        pytest.skip("not glibc")
    heaps = int(done.stdout)
    if arenas is None:
        assert heaps == 1
    else:  # the environment's limit stands: the threads spread over more than one
        assert 1 < heaps <= int(arenas)
