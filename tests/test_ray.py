"""The Ray executor (engine/jobs/ray_executor.py) on a real 2-node Ray cluster on loopback.

The cluster is started by a module fixture (token auth on, every port on 127.0.0.1)
and torn down after. Jobs run `run_job` in Ray worker processes; chunk jobs fan out and
are joined here. Faults are real: `kill -9` of the worker running a chunk, and a node
removed while it runs one.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import signal
import threading
import time
from pathlib import Path

import pytest

# Before Ray is imported: token auth for every process the cluster starts, and a driver
# that resolves "127.0.0.1" to loopback rather than to the machine's own address.
os.environ.setdefault("RAY_AUTH_MODE", "token")
os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray")

import engine
from engine.errors import JobNotFoundError
from engine.jobs import OutputRequest, RenderJob
from engine.jobs.chunked import ChunkPlan, render_chunked
from engine.jobs.model import JobState
from engine.jobs.ray_executor import RayExecutor, node_resources
from engine.pipeline import render_output
from tests.helpers import probe
from tests.test_chunks import _packets

pytestmark = pytest.mark.slow

SIZE = "320x180@10"  # GOP 20 frames (2 s)
FRAMES = 105  # 12 s of slides, less three 0.5 s transitions, at 10 fps
# Chunks that take seconds (every frame encoded), so a fault lands mid-chunk (GOP 60 frames).
SLOW = "1280x720@30"
LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    system = {"health_check_period_ms": 500, "health_check_failure_threshold": 4}
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "node_ip_address": LOOPBACK,
            "include_dashboard": False,
            "_system_config": system,
        },
    )
    cluster.add_node(num_cpus=1, node_ip_address=LOOPBACK)
    cluster.wait_for_nodes()
    try:
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


@pytest.fixture(scope="module")
def executor(cluster):
    with RayExecutor(address=cluster.address, node_ip_address=LOOPBACK, max_retries=3) as ex:
        yield ex


@pytest.fixture(scope="module")
def deck_file(tmp_path_factory) -> Path:
    """12 s: holds, fades, a push and a building bullet slide (no sound: the join's mux is tested elsewhere)."""
    folder = tmp_path_factory.mktemp("ray")
    deck = {
        "title": "ray",
        "defaults": {"transition": {"name": "fade", "duration": 0.5}},
        "slides": [
            {"kind": "title", "title": "One", "subtitle": "on a Ray cluster", "duration": 3},
            {
                "kind": "bullets",
                "title": "Two",
                "bullets": ["first", "second", "third"],
                "duration": 3,
                "motion": {"build": {"duration": 2}},
            },
            {"kind": "text", "text": "Three", "style": "big", "duration": 3, "transition": {"name": "slideleft"}},
            {"kind": "title", "title": "Four", "duration": 3},
        ],
    }
    (folder / "deck.json").write_text(json.dumps(deck))
    return folder / "deck.json"


@pytest.fixture(scope="module")
def long_deck_file(tmp_path_factory) -> Path:
    """40.5 s of fades and holds: chunks of the fault tests last seconds even on an idle
    machine, so a fault sent at under half a chunk's reported frames lands before it
    ends (the progress a record shows lags the render by up to a second)."""
    folder = tmp_path_factory.mktemp("ray-long")
    deck = {
        "title": "ray long",
        "defaults": {"transition": {"name": "fade", "duration": 0.5}},
        "slides": [{"kind": "title", "title": f"Slide {i}", "duration": 5.5} for i in range(8)],
    }
    (folder / "deck.json").write_text(json.dumps(deck))
    return folder / "deck.json"


LONG_FRAMES = 1215  # 8 × 5.5 s less seven 0.5 s fades (40.5 s), at 30 fps


def _job(deck_file: Path, out: Path, *sizes: str, skip_holds: bool = True) -> RenderJob:
    requests = [OutputRequest(s, skip_holds=skip_holds) for s in sizes]
    return RenderJob.for_deck(deck_file, requests, out_dir=out, compositor="cpu")


def test_the_cluster_is_on_loopback_with_token_auth(cluster, executor):
    nodes = [n for n in ray.nodes() if n["Alive"]]
    assert len(nodes) == 2 and {n["NodeManagerAddress"] for n in nodes} == {LOOPBACK}
    assert os.environ["RAY_AUTH_MODE"] == "token"


def test_a_three_platform_job_completes_and_decodes(executor, deck_file, tmp_path):
    sizes = ("320x180@10", "180x320@10", "240x240@10")
    seen: list = []
    record = executor.submit(_job(deck_file, tmp_path, *sizes), seen.append)
    record = executor.wait(record.id, timeout=FRAMES)
    assert record.state == JobState.DONE, record.error_message
    assert record.worker is not None and record.worker.startswith("ray:")
    assert len(record.reports) == 3
    for report, size in zip(record.reports, sizes):
        width, height = (int(n) for n in size.split("@")[0].split("x"))
        info = probe(Path(report["path"]))
        assert (info.width, info.height, info.frames) == (width, height, FRAMES)
    assert seen and seen[-1].frames_done == seen[-1].frames_total == FRAMES


def test_a_bad_deck_fails_once_without_retries(executor, tmp_path):
    job = RenderJob.for_deck(
        {"slides": [{"kind": "image", "image": "missing.png"}]}, [OutputRequest(SIZE)], out_dir=tmp_path
    )
    record = executor.wait(executor.submit(job).id, timeout=60)
    assert record.state == JobState.FAILED and record.attempts == 1
    assert record.error_type == "SpecError" and "slides[0]" in (record.error_message or "")
    assert record.user_error


@pytest.fixture(scope="module")
def whole(deck_file, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("whole") / "whole.mp4"
    render_output(engine.load_deck(deck_file), engine.resolve_output(SIZE), target, compositor="cpu")
    return target


def test_a_four_chunk_job_joins_into_the_unchunked_render(executor, deck_file, whole, tmp_path):
    seen: list = []
    job = _job(deck_file, tmp_path, SIZE)
    report = render_chunked(executor, job, 4, seen.append)
    a, b = probe(whole), probe(Path(report.path))
    assert b.frames == a.frames == FRAMES
    assert b.keyframes == a.keyframes == list(range(0, FRAMES, 20))
    ranges = [c["frame_range"] for c in report.chunks]
    assert len(ranges) == 4 and ranges[0][0] == 0 and ranges[-1][1] == FRAMES
    assert all(a[1] == b[0] and a[1] % 20 == 0 for a, b in itertools.pairwise(ranges))
    pa, pb = _packets(whole), _packets(Path(report.path))
    assert sorted(p for p, _, _ in pa) == sorted(p for p, _, _ in pb)
    assert [k for _, _, k in sorted(pa)] == [k for _, _, k in sorted(pb)]
    assert seen[-1].frames_done == seen[-1].frames_total == FRAMES
    assert {p.job_id for p in seen} == {job.id}  # frames across all chunks, as the whole job's


def test_a_restarted_driver_reuses_the_chunks_already_finished(cluster, executor, deck_file, tmp_path):
    """A driver stopped after one chunk: the next run on Ray renders only the others."""
    job = _job(deck_file, tmp_path, SIZE)
    plan = ChunkPlan.of(job, 3)
    first = plan.jobs[0]
    record = executor.wait(executor.submit(first).id, timeout=120)
    plan.finished(first, record.reports[0])  # what the stopped driver had recorded
    again = ChunkPlan.of(job, 3)
    assert [j.id for j in again.pending] == [j.id for j in plan.jobs[1:]]
    report = render_chunked(executor, job, 3)
    assert report.chunks[0]["wall_seconds"] == record.reports[0]["wall_seconds"]  # reused, not rendered again
    assert probe(Path(report.path)).frames == FRAMES


def _wait_for_worker(executor: RayExecutor, job_id: str, timeout: float = 60) -> tuple[str, int]:
    """(node id prefix, pid) of the Ray worker running `job_id`, once it has rendered a frame."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            record = executor.get(job_id)
        except JobNotFoundError:  # not submitted yet
            time.sleep(0.05)
            continue
        progress = record.progress or {}
        if record.worker and 0 <= progress.get("frames_done", -1) < progress.get("frames_total", 0) / 2:
            _, node, pid = record.worker.split(":")
            return node, int(pid)
        time.sleep(0.05)
    raise AssertionError(f"{job_id} never started rendering")


def test_kill_9_of_the_worker_running_a_chunk_and_the_video_completes(executor, long_deck_file, tmp_path):
    job = _job(long_deck_file, tmp_path, SLOW, skip_holds=False)
    plan = ChunkPlan.of(job, 2)
    first = plan.jobs[0]
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(report=render_chunked(executor, job, 2)))
    thread.start()
    _, pid = _wait_for_worker(executor, first.id)
    os.kill(pid, signal.SIGKILL)
    thread.join(timeout=FRAMES)
    assert "report" in result
    record = executor.get(first.id)
    assert record.state == JobState.DONE and not record.worker.endswith(f":{pid}")
    info = probe(Path(result["report"].path))
    assert info.frames == LONG_FRAMES and info.keyframes == list(range(0, LONG_FRAMES, 60))


def test_a_node_removed_mid_chunk_and_the_video_completes(cluster, executor, long_deck_file, tmp_path):
    # A long 720p chunk: a kill after the chunk ended would test nothing (long_deck_file).
    job = _job(long_deck_file, tmp_path, SLOW, skip_holds=False)
    plan = ChunkPlan.of(job, 2)
    result: dict = {}

    thread = threading.Thread(target=lambda: result.update(report=render_chunked(executor, job, 2)))
    thread.start()
    worker_node = next(iter(cluster.worker_nodes))
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        for chunk in plan.jobs:
            try:
                record = executor.get(chunk.id)
            except JobNotFoundError:
                continue
            progress = record.progress or {}
            # Well before its end: under load the progress a record shows lags the render,
            # and a kill that lands after the chunk finished tests nothing.
            early = 0 <= progress.get("frames_done", -1) < progress.get("frames_total", 0) * 0.5
            if record.worker and early and worker_node.node_id.startswith(record.worker.split(":")[1]):
                victim = chunk.id
        time.sleep(0.05)
    assert victim is not None, ("no chunk ran on the worker node", [executor.get(c.id) for c in plan.jobs])
    pid = int(executor.get(victim).worker.split(":")[2])
    # A machine lost takes all its processes at once: the worker rendering the chunk
    # first (removing a node stops its processes one by one, and the chunk could finish
    # meanwhile), then the raylet and the rest.
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    cluster.remove_node(worker_node, allow_graceful=False)
    thread.join(timeout=150)
    cluster.add_node(num_cpus=1, node_ip_address=LOOPBACK)  # for whatever runs next
    assert "report" in result
    assert probe(Path(result["report"].path)).frames == LONG_FRAMES
    again = executor.get(victim)
    assert again.state == JobState.DONE and not worker_node.node_id.startswith(again.worker.split(":")[1])


def test_reel_worker_ray_runs_the_queue_and_refuses_paths_outside_shared_storage(
    cluster, executor, deck_file, tmp_path, monkeypatch
):
    from engine.cli import main
    from engine.jobs import JobStore

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "deck.json").write_text(deck_file.read_text())
    monkeypatch.setenv("REEL_HOME", str(shared / "home"))
    monkeypatch.setenv("REEL_SHARED_DIR", str(shared))
    monkeypatch.setenv("CACHE_SIZE_GB", "0")
    store = JobStore(shared / "home")
    inside = store.submit(_job(shared / "deck.json", shared / "out", SIZE))
    outside = store.submit(_job(deck_file, tmp_path / "elsewhere", SIZE))
    assert main(["worker", "--ray", cluster.address, "--ray-node-ip", LOOPBACK, "--drain"]) == 0
    done, refused = store.get(inside.id), store.get(outside.id)
    assert done.state == JobState.DONE and done.worker.startswith("ray:")
    assert probe(Path(done.reports[0]["path"])).frames == FRAMES
    assert refused.state == JobState.FAILED and "outside REEL_SHARED_DIR" in (refused.error_message or "")


def test_node_resources_advertise_nvenc_only_where_it_works():
    resources = node_resources()
    assert set(resources) <= {"nvenc"}
    assert all(v > 0 for v in resources.values())
