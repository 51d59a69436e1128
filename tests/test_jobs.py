"""The job model, run_job, the output cache and the queue, in this process (no workers)."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest
from PIL import Image

from engine.errors import InsufficientResourcesError, JobNotFoundError, QueueFullError, SpecError
from engine.jobs import JobState, JobStore, OutputCache, OutputRequest, RenderJob, output_key, run_job
from engine.jobs.run import load_job_deck, resolve_request
from tests.helpers import probe
from tests.test_render import two_slide_deck

SMALL = "160x90@10"


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def small_job(tmp_path, deck=None, platforms=(SMALL,), **options) -> RenderJob:
    return RenderJob.for_deck(
        deck or two_slide_deck(1.0, 0.5),
        [OutputRequest(platform=p) for p in platforms],
        out_dir=tmp_path / "out",
        compositor="cpu",
        **options,
    )


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# -- the model -------------------------------------------------------------------------


def test_a_job_survives_json_unchanged(tmp_path):
    job = small_job(tmp_path, platforms=(SMALL, "90x160@10"), step_down=True)
    again = RenderJob.from_json(job.to_json())
    assert again == job and again.outputs[1].platform == "90x160@10" and again.step_down


def test_a_deck_file_job_names_the_file_absolutely(tmp_path, monkeypatch):
    (tmp_path / "deck.json").write_text(json.dumps(two_slide_deck()))
    monkeypatch.chdir(tmp_path)
    job = RenderJob.for_deck("deck.json", [OutputRequest()])
    assert job.deck_file == str(tmp_path / "deck.json") and job.deck is None


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: RenderJob((OutputRequest(),)), "exactly one of deck"),
        (lambda: RenderJob((), deck={"slides": []}), "at least one output"),
        (lambda: RenderJob((OutputRequest(),), deck={}, compositor="vulkan"), "unknown compositor"),
        (lambda: RenderJob.from_dict({"outputs": [{"platfrom": "x"}], "deck": {}}), "unknown output field"),
    ],
)
def test_a_malformed_job_is_a_spec_error(build, message):
    with pytest.raises(SpecError, match=message):
        build()


# -- run_job -------------------------------------------------------------------------


def test_run_job_writes_each_output_whole_and_reports_progress_frame_by_frame(tmp_path):
    job = small_job(tmp_path, platforms=(SMALL, "90x160@10"))
    seen = []
    reports = run_job(job, seen.append)
    assert [(r.width, r.height) for r in reports] == [(160, 90), (90, 160)]
    for report in reports:
        assert probe(report.path).frames == report.frames == 15
        assert not report.cache_hit
    assert leftovers(tmp_path / "out") == []
    first = [p.frames_done for p in seen if p.index == 0]
    assert len(first) > 2 and first == sorted(first) and first[-1] == 15
    assert {(p.job_id, p.outputs) for p in seen} == {(job.id, 2)}


def test_run_job_twice_gives_the_same_file_and_leaves_nothing_else(tmp_path):
    job = small_job(tmp_path)
    first = run_job(job)[0]
    digest = sha(tmp_path / "out" / "two-slides-160x90@10.mp4")
    second = run_job(job)[0]
    assert first.path == second.path
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["two-slides-160x90@10.mp4"]
    assert probe(second.path).frames == 15 and len(digest) == 64


def test_run_job_removes_what_a_killed_attempt_of_the_same_job_left(tmp_path):
    job = small_job(tmp_path)
    (tmp_path / "out").mkdir()
    stale = tmp_path / "out" / f".two-slides-160x90@10.{job.id}-deadbeef.part.mp4"
    stale.write_bytes(b"half a video")
    other = tmp_path / "out" / ".two-slides-160x90@10.otherjob-deadbeef.part.mp4"
    other.write_bytes(b"someone else's")
    run_job(job)
    assert not stale.exists() and other.exists()


def test_step_down_renders_at_a_lower_quality_when_memory_is_short_and_says_so(tmp_path):
    job = small_job(tmp_path, platforms=("1920x1080@10",), step_down=True)
    limit = 250 * 10**6  # 1080p "standard" is estimated at ~300 MB, "draft" (960x540) at ~190 MB
    report = run_job(job, memory_limit=limit)[0]
    assert report.stepped_down_from == "standard" and report.quality == "draft"
    assert (report.width, report.height) == (960, 540)
    assert report.path.endswith("two-slides-960x540@10-draft.mp4")
    assert any("standard → draft" in f for f in report.fallbacks)
    assert probe(report.path).width == 960


def test_without_step_down_short_memory_is_an_error_before_any_file(tmp_path):
    job = small_job(tmp_path, platforms=("1920x1080@10",))
    with pytest.raises(InsufficientResourcesError, match="this worker may use 250 MB"):
        run_job(job, memory_limit=250 * 10**6)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


# -- the cache -----------------------------------------------------------------------


def test_a_cache_hit_returns_identical_bytes_at_once_and_says_so(tmp_path):
    cache = OutputCache(tmp_path / "cache", 10**9)
    first = run_job(small_job(tmp_path / "a"), cache=cache)[0]
    second = run_job(small_job(tmp_path / "b"), cache=cache)[0]
    assert not first.cache_hit and second.cache_hit
    assert sha(tmp_path / "a" / "out" / "two-slides-160x90@10.mp4") == sha(
        tmp_path / "b" / "out" / "two-slides-160x90@10.mp4"
    )
    assert second.frames == first.frames and second.psnr_db == pytest.approx(first.psnr_db, abs=0.01)
    assert second.stage_seconds.keys() == {"cache"}
    stats = cache.stats()
    assert (stats.entries, stats.hits) == (1, 1) and stats.bytes == first.bytes


def test_the_key_follows_asset_contents_output_and_deck(tmp_path):
    image = tmp_path / "pic.png"
    Image.new("RGB", (32, 32), (200, 30, 30)).save(image)
    deck = {"slides": [{"kind": "image", "file": str(image), "duration": 1}]}
    job = small_job(tmp_path, deck)

    def key(job):
        return output_key(load_job_deck(job), resolve_request(job.outputs[0]), job.outputs[0], job.compositor)

    before = key(job)
    assert key(job.with_new_id()) == before  # the id is not content
    assert key(small_job(tmp_path, deck, platforms=("90x160@10",))) != before
    assert key(small_job(tmp_path, {"slides": [{"kind": "image", "file": str(image), "duration": 2}]})) != before
    Image.new("RGB", (32, 32), (30, 200, 30)).save(image)  # same path, new pixels
    assert key(job) != before


def test_a_damaged_cache_entry_is_dropped_and_rendered_again(tmp_path):
    cache = OutputCache(tmp_path / "cache", 10**9)
    run_job(small_job(tmp_path / "a"), cache=cache)
    (entry,) = (tmp_path / "cache" / "objects").iterdir()
    # Break the cached copy in place (not the user's file: write a new inode).
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.unlink()
    entry.write_bytes(bytes(data))
    again = run_job(small_job(tmp_path / "b"), cache=cache)[0]
    assert not again.cache_hit
    assert probe(again.path).frames == 15
    stats = cache.stats()
    assert stats.damaged == 1 and stats.entries == 1
    assert sha(tmp_path / "cache" / "objects" / entry.name) == sha(tmp_path / "b" / "out" / "two-slides-160x90@10.mp4")


def test_lru_eviction_keeps_the_cache_under_its_cap(tmp_path):
    cache = OutputCache(tmp_path / "cache", 2500)
    files = {}
    for name in "abc":
        files[name] = tmp_path / f"{name}.mp4"
        files[name].write_bytes(name.encode() * 1000)
    cache.put("a", files["a"], {})
    cache.put("b", files["b"], {})
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("c", files["c"], {})  # 3000 bytes > 2500: the least recently used (b) goes
    assert cache.keys() == ["a", "c"]
    assert cache.get("b") is None
    stats = cache.stats()
    assert stats.bytes == 2000 <= stats.max_bytes and stats.evictions == 1
    assert sorted(p.name for p in (tmp_path / "cache" / "objects").iterdir()) == ["a.mp4", "c.mp4"]


def test_two_identical_jobs_at_once_render_once(tmp_path):
    cache = OutputCache(tmp_path / "cache", 10**9)
    reports = {}

    def run(name):
        reports[name] = run_job(small_job(tmp_path / name), cache=cache)[0]

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.cache_hit for r in reports.values()) == [False, True]
    assert cache.stats().entries == 1


# -- the queue -----------------------------------------------------------------------


def test_the_queue_pushes_back_at_its_limit_and_keeps_nothing_it_refused(tmp_path):
    store = JobStore(tmp_path / "home")
    for _ in range(3):
        store.submit(small_job(tmp_path), queue_max=3)
    refused = small_job(tmp_path)
    with pytest.raises(QueueFullError, match="REEL_QUEUE_MAX=3"):
        store.submit(refused, queue_max=3)
    with pytest.raises(JobNotFoundError):
        store.get(refused.id)
    assert store.counts()[JobState.QUEUED] == 3


def test_a_failed_attempt_is_queued_again_with_backoff_until_attempts_run_out(tmp_path):
    store = JobStore(tmp_path / "home")
    job_id = store.submit(small_job(tmp_path), max_attempts=2).id
    assert store.claim("host:1:1", 10).id == job_id
    assert store.fail(job_id, "WorkerLost", "killed", user_error=False, retry=True, backoff_s=60) == JobState.QUEUED
    assert store.claim("host:1:1", 10) is None  # backing off for a minute
    with store._tx() as db:
        db.execute("UPDATE jobs SET not_before = 0")
    assert store.claim("host:1:1", 10).attempts == 2
    assert store.fail(job_id, "WorkerLost", "killed", user_error=False, retry=True) == JobState.FAILED
    record = store.get(job_id)
    assert [h["outcome"] for h in record.history] == ["WorkerLost", "WorkerLost"] and record.final


def test_jobs_of_a_dead_supervisor_are_queued_again(tmp_path):
    import socket

    store = JobStore(tmp_path / "home")
    job_id = store.submit(small_job(tmp_path)).id
    store.claim(f"{socket.gethostname()}:999999:1", 3600)
    assert store.recover(lambda host, pid: True) == []  # alive, lease valid
    assert store.recover(lambda host, pid: pid != 999999) == [job_id]
    record = store.get(job_id)
    assert record.state == JobState.QUEUED and record.history[-1]["outcome"] == "SupervisorLost"


def test_a_short_unique_prefix_finds_a_job(tmp_path):
    store = JobStore(tmp_path / "home")
    job = small_job(tmp_path)
    store.submit(job)
    assert store.get(job.id[:6]).id == job.id
    with pytest.raises(JobNotFoundError, match="no job"):
        store.get("zzzzzz")
