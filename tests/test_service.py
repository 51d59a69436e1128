"""The rendering service with real processes: spawned workers, `reel worker`, `kill -9`.

Nothing here mocks the queue or the workers. Jobs render tiny decks, so each test
takes seconds; the ones that kill processes wait on the queue's own records (a job's
progress, its worker's pid) rather than on sleeps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil

from engine.jobs import JobState, JobStore, LocalExecutor, OutputRequest, RenderJob
from engine.metrics import metrics_text
from engine.settings import Settings
from tests.helpers import probe
from tests.test_render import two_slide_deck

COLOURS = ["#c0392b", "#2980b9", "#27ae60", "#8e44ad"]


def slow_deck(slides: int = 40, title: str = "Slow") -> dict:
    """About 0.04 s of rendering per slide at 640x360 on two cores (1.6 s for 40): most frames are fades."""
    return {
        "title": title,
        "defaults": {"transition": {"name": "fade", "duration": 0.45}},
        "slides": [
            {"kind": "title", "title": f"Slide {i}", "duration": 1.0, "background": COLOURS[i % 4]}
            for i in range(slides)
        ],
    }


def settings_for(tmp_path, **overrides) -> Settings:
    values = {"home": tmp_path / "home", "cache_size_gb": 0, "retry_backoff_s": 0.1, "max_concurrent_videos": 2}
    values.update(overrides)
    return Settings(**values)


def job_for(tmp_path, deck, name: str, platform: str = "160x90@10", **options) -> RenderJob:
    out = tmp_path / "out" / f"{name}.mp4"
    return RenderJob.for_deck(deck, [OutputRequest(platform=platform, path=str(out))], compositor="cpu", **options)


def wait_until(condition, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def rendering(store: JobStore, job_id: str, frames: int = 20):
    """The job's record once its worker has written `frames` frames."""

    def check():
        record = store.get(job_id)
        p = record.progress
        return (
            record if record.state == JobState.RUNNING and record.worker and p and p["frames_done"] >= frames else None
        )

    try:
        return wait_until(check, timeout=240, what=f"job {job_id} to be rendering")
    except AssertionError as exc:  # say what the job was doing instead
        record = store.get(job_id)
        raise AssertionError(
            f"{exc}: it is {record.state}, worker {record.worker}, progress {record.progress}"
        ) from None


def worker_pid(record) -> int:
    return int(record.worker.split("@")[0])


def output_files(tmp_path) -> list[str]:
    """Everything in the output folder, hidden files included (none if it was never made:
    on a loaded machine a job can time out before its worker gets that far)."""
    folder = tmp_path / "out"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- a supervisor on a thread of this process (LocalExecutor) -------------------------------


def test_eight_jobs_submitted_at_once_all_finish(tmp_path):
    settings = settings_for(tmp_path)
    with LocalExecutor(settings) as executor:
        jobs = [job_for(tmp_path, two_slide_deck(1.0, 0.5) | {"title": f"Deck {i}"}, f"deck{i}") for i in range(8)]
        for job in jobs:
            executor.submit(job)
        records = [executor.wait(job.id, timeout=180) for job in jobs]
    assert [r.state for r in records] == [JobState.DONE] * 8
    assert all(r.attempts == 1 for r in records)
    assert output_files(tmp_path) == sorted(f"deck{i}.mp4" for i in range(8))
    for record in records:
        assert probe(record.reports[0]["path"]).frames == 15
    # Two cores: never more than two workers at once.
    assert len({r.worker for r in records}) <= 2


def test_kill_9_of_a_worker_mid_render_reruns_its_job_and_leaves_no_partial_file(tmp_path):
    settings = settings_for(tmp_path)
    with LocalExecutor(settings, workers=1) as executor:
        job = job_for(tmp_path, slow_deck(80), "slow", platform="640x360@30")  # ~3 s: the kill lands mid-render
        executor.submit(job)
        record = rendering(executor.store, job.id)
        assert any(p.name.startswith(".slow.") for p in (tmp_path / "out").iterdir())  # mid-write
        os.kill(worker_pid(record), signal.SIGKILL)
        final = executor.wait(job.id, timeout=120)
    assert final.state == JobState.DONE and final.attempts == 2
    assert [h["outcome"] for h in final.history] == ["WorkerLost", "done"]
    assert "signal 9" in final.history[0]["message"]
    assert output_files(tmp_path) == ["slow.mp4"]
    assert probe(tmp_path / "out" / "slow.mp4").frames == final.reports[0]["frames"]
    counters = JobStore(settings.home).counters()
    assert counters[("worker_restarts", "crashed")] == 1 and counters[("errors", "WorkerLost")] == 1


def test_cancel_stops_a_running_job_and_removes_its_temporary_file(tmp_path):
    with LocalExecutor(settings_for(tmp_path), workers=1) as executor:
        # Far longer than the cancel takes (~40 s of rendering if it never came).
        running = job_for(tmp_path, slow_deck(500), "running", platform="640x360@30")
        waiting = job_for(tmp_path, two_slide_deck(), "waiting")
        executor.submit(running)
        executor.submit(waiting)
        record = rendering(executor.store, running.id)
        assert executor.cancel(waiting.id).state == JobState.CANCELLED  # queued: at once
        assert executor.cancel(running.id).cancel_requested
        final = executor.wait(running.id, timeout=30)
        pid = worker_pid(record)
    assert final.state == JobState.CANCELLED
    assert executor.get(waiting.id).state == JobState.CANCELLED
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert output_files(tmp_path) == []


def test_a_job_past_its_timeout_is_stopped_and_not_retried(tmp_path):
    with LocalExecutor(settings_for(tmp_path, job_timeout_s=1.5), workers=1) as executor:
        job = job_for(tmp_path, slow_deck(80), "slow", platform="640x360@30")
        executor.submit(job)
        final = executor.wait(job.id, timeout=60)
    assert final.state == JobState.FAILED and final.attempts == 1
    assert final.error_type == "JobTimeout" and "REEL_JOB_TIMEOUT" in final.error_message
    assert output_files(tmp_path) == []


def test_user_errors_fail_at_once_with_their_message(tmp_path):
    image = tmp_path / "pic.png"
    from PIL import Image

    Image.new("RGB", (32, 32), (1, 2, 3)).save(image)
    deck_file = tmp_path / "deck.json"
    deck_file.write_text(json.dumps({"slides": [{"kind": "image", "file": "pic.png", "duration": 1}]}))
    gone = job_for(tmp_path, deck_file, "gone")
    bad_platform = job_for(tmp_path, two_slide_deck(), "bad", platform="youtub")
    image.unlink()  # after the job was made: the worker finds it missing
    with LocalExecutor(settings_for(tmp_path), workers=1) as executor:
        executor.submit(gone)
        executor.submit(bad_platform)
        first, second = executor.wait(gone.id, timeout=60), executor.wait(bad_platform.id, timeout=60)
    assert (first.state, first.attempts, first.error_type, first.user_error) == (JobState.FAILED, 1, "AssetError", True)
    assert "pic.png" in first.error_message
    assert (second.state, second.attempts, second.error_type) == (JobState.FAILED, 1, "SpecError")
    assert "unknown platform 'youtub'" in second.error_message


def test_a_worker_past_its_memory_limit_is_stopped_and_the_job_retried_then_failed(tmp_path):
    from PIL import Image

    # A 7000×7000 picture: the estimate (from the output's size) is ~150 MB, but
    # decoding and scaling the picture takes the worker past 300 MB for seconds.
    Image.new("RGB", (7000, 7000), (10, 120, 200)).save(tmp_path / "huge.png")
    deck = {"slides": [{"kind": "image", "file": str(tmp_path / "huge.png"), "duration": 1}] * 2}
    settings = settings_for(tmp_path, worker_memory_limit_mb=300, max_attempts=2)
    with LocalExecutor(settings, workers=1) as executor:
        job = job_for(tmp_path, deck, "big")
        executor.submit(job)
        final = executor.wait(job.id, timeout=120)
    assert final.state == JobState.FAILED and final.attempts == 2
    assert [h["outcome"] for h in final.history] == ["WorkerMemoryLimit", "WorkerMemoryLimit"]
    assert "REEL_WORKER_MEMORY_LIMIT_MB" in final.error_message
    assert len({h["message"].split()[1] for h in final.history}) == 2  # a fresh worker for the retry
    counters = JobStore(settings.home).counters()
    assert counters[("worker_restarts", "memory")] == 2
    assert output_files(tmp_path) == []


def test_workers_are_recycled_after_their_job_count(tmp_path):
    settings = settings_for(tmp_path, worker_max_jobs=2)
    with LocalExecutor(settings, workers=1) as executor:
        jobs = [job_for(tmp_path, two_slide_deck(1.0, 0.5) | {"title": f"D{i}"}, f"d{i}") for i in range(3)]
        for job in jobs:
            executor.submit(job)
        workers = [executor.wait(job.id, timeout=120).worker for job in jobs]
    assert workers[0] == workers[1] != workers[2]
    assert JobStore(settings.home).counters()[("worker_restarts", "recycled")] == 1


def test_an_alert_is_counted_when_a_render_passes_the_threshold(tmp_path):
    settings = settings_for(tmp_path, alert_render_seconds=0.01)
    with LocalExecutor(settings, workers=1) as executor:
        job = job_for(tmp_path, two_slide_deck(), "alert")
        executor.submit(job)
        assert executor.wait(job.id, timeout=60).state == JobState.DONE
    families = _parse(metrics_text(JobStore(settings.home)))
    assert families["reel_alerts"][("slow_render",)] == 1
    assert families["reel_alerts"][("worker_memory",)] == 0
    assert families["reel_jobs"][("done",)] == 1
    assert families["reel_render_seconds"]["count"] == 1


def _parse(text: str) -> dict:
    """Prometheus text → {family: {label values: value}}, histograms as bucket/count/sum."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict = {}
    for family in text_string_to_metric_families(text):
        values: dict = {}
        for sample in family.samples:
            if sample.name.endswith("_count"):
                values["count"] = sample.value
            elif sample.name.endswith("_sum"):
                values["sum"] = sample.value
            elif not sample.name.endswith("_created"):
                values[tuple(v for k, v in sorted(sample.labels.items()) if k != "le")] = sample.value
        found[family.name] = values
    return found


# -- `reel worker` as its own process ---------------------------------------------------


def reel(*args: str, env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,
    )


def service_env(tmp_path, **extra: str) -> dict:
    env = dict(os.environ)
    env.update(REEL_HOME=str(tmp_path / "home"), CACHE_SIZE_GB="0", REEL_RETRY_BACKOFF="0.1", MAX_CONCURRENT_VIDEOS="2")
    env.pop("REEL_CONFIG", None)
    env.update(extra)
    return env


def start_worker(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_of_a_worker_then_of_the_supervisor_ends_with_every_job_done_exactly_once(tmp_path):
    env = service_env(tmp_path)
    decks = tmp_path / "decks"
    decks.mkdir()
    ids = []
    for i in range(4):
        # 120 slides (~5 s each): a job of 40 could be done before a poll saw it rendering.
        (decks / f"deck{i}.json").write_text(json.dumps(slow_deck(120, f"Deck {i}")))
        result = reel(
            "submit",
            str(decks / f"deck{i}.json"),
            "-p",
            "640x360@30",
            "--quality",
            "standard",
            "-o",
            str(tmp_path / "out"),
            "--compositor",
            "cpu",
            env=env,
        )
        assert result.returncode == 0, result.stderr
        ids.append(result.stdout.strip())
    store = JobStore(tmp_path / "home")

    supervisor = start_worker(env, "-j", "2")
    try:
        # 1. A worker dies under its job.
        record = rendering(store, ids[0])
        os.kill(worker_pid(record), signal.SIGKILL)
        wait_until(lambda: store.get(ids[0]).history, what="the supervisor to notice the lost worker")
        # 2. The supervisor dies, with jobs running.
        running = wait_until(lambda: [r for r in store.list(JobState.RUNNING) if r.progress], what="a running job")
        workers = [w["pid"] for s in store.supervisors() for w in s["workers"]]
        assert workers and running
        supervisor.kill()
        supervisor.wait(10)
        # Its workers die with it: no orphans.
        wait_until(
            lambda: (
                not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in workers)
            ),
            timeout=15,
            what="the workers to die with their supervisor",
        )
        assert store.list(JobState.RUNNING)  # still marked running: nobody has noticed yet
    finally:
        if supervisor.poll() is None:
            supervisor.kill()

    # 3. The next supervisor queues them again and finishes everything.
    again = start_worker(env, "-j", "2", "--drain")
    _, stderr = again.communicate(timeout=240)
    assert again.returncode == 0, stderr
    records = [store.get(i) for i in ids]
    assert [r.state for r in records] == [JobState.DONE] * 4, [(r.state, r.error_message) for r in records]
    outcomes = [h["outcome"] for r in records for h in r.history]
    assert "WorkerLost" in outcomes and "SupervisorLost" in outcomes
    assert output_files(tmp_path) == sorted(f"deck{i}-640x360@30.mp4" for i in range(4))
    for record in records:
        assert probe(record.reports[0]["path"]).frames == record.reports[0]["frames"]


def test_sigterm_stops_the_worker_cleanly_and_requeues_its_job(tmp_path):
    env = service_env(tmp_path)
    (tmp_path / "deck.json").write_text(json.dumps(slow_deck(80)))
    job_id = reel(
        "submit",
        str(tmp_path / "deck.json"),
        "-p",
        "640x360@30",
        "-o",
        str(tmp_path / "out"),
        "--compositor",
        "cpu",
        env=env,
    ).stdout.strip()
    store = JobStore(tmp_path / "home")
    supervisor = start_worker(env, "--grace", "0")
    rendering(store, job_id)
    supervisor.send_signal(signal.SIGTERM)
    supervisor.communicate(timeout=30)
    assert supervisor.returncode == 0
    record = store.get(job_id)
    assert record.state == JobState.QUEUED and record.attempts == 0
    assert record.history[-1]["outcome"] == "requeued"
    assert output_files(tmp_path) == []
    assert store.supervisors() == []


def test_cli_submit_jobs_show_wait_and_metrics(tmp_path):
    env = service_env(tmp_path, QUALITY_PRESET="draft")
    (tmp_path / "deck.json").write_text(json.dumps(two_slide_deck()))
    submitted = reel("submit", str(tmp_path / "deck.json"), "-p", "320x180@10", "-o", str(tmp_path / "out"), env=env)
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip()
    listing = reel("jobs", env=env).stdout
    assert job_id in listing and "queued" in listing and "320x180@10-draft" in listing
    assert reel("worker", "--drain", env=env).returncode == 0
    waited = reel("jobs", "wait", job_id[:6], env=env)
    assert waited.returncode == 0 and "160x90@10" in waited.stdout  # draft: half size, fps kept (≤ 15)
    shown = json.loads(reel("jobs", "show", job_id, "--json", env=env).stdout)
    assert shown["state"] == "done" and shown["reports"][0]["quality"] == "draft"
    assert output_files(tmp_path) == ["deck-160x90@10-draft.mp4"]
    text = reel("metrics", env=env).stdout
    assert 'reel_jobs{state="done"} 1.0' in text and "reel_render_seconds_bucket" in text


def test_cli_user_mistakes_are_one_line(tmp_path):
    env = service_env(tmp_path, REEL_QUEUE_MAX="1")
    (tmp_path / "deck.json").write_text(json.dumps(two_slide_deck()))
    deck = str(tmp_path / "deck.json")
    assert reel("submit", deck, env=env).returncode == 0
    full = reel("submit", deck, env=env)
    assert full.returncode == 2 and full.stderr.strip().count("\n") == 0 and "queue is full" in full.stderr
    bad = reel("config", env=service_env(tmp_path, MAX_CONCURRENT_VIDEOS="lots"))
    assert bad.returncode == 2 and "MAX_CONCURRENT_VIDEOS" in bad.stderr and "lots" in bad.stderr
    missing = reel("jobs", "show", "nosuchjob", env=env)
    assert missing.returncode == 2 and "no job 'nosuchjob'" in missing.stderr


def test_cli_config_prints_each_setting_with_its_source(tmp_path):
    (tmp_path / "reel.toml").write_text("cache_size_gb = 3\nqueue_max = 7\n")
    env = service_env(tmp_path, REEL_QUEUE_MAX="9")
    env.pop("CACHE_SIZE_GB")
    shown = json.loads(reel("config", "--json", env=env, cwd=tmp_path).stdout)
    assert shown["CACHE_SIZE_GB"] == {"value": "3.0", "source": f"reel.toml ({tmp_path / 'reel.toml'})"}
    assert shown["REEL_QUEUE_MAX"] == {"value": "9", "source": "env REEL_QUEUE_MAX"}
    assert shown["REEL_JOB_TIMEOUT"]["source"] == "default"


def test_batch_renders_many_decks_through_the_workers(tmp_path):
    env = service_env(tmp_path)
    decks = []
    for i in range(3):
        path = tmp_path / f"d{i}.json"
        path.write_text(json.dumps(two_slide_deck(1.0, 0.5) | {"title": f"D{i}"}))
        decks.append(str(path))
    result = reel(
        "batch", *decks, "-p", "160x90@10", "-p", "90x160@10", "-j", "2", "-o", str(tmp_path / "out"), env=env
    )
    assert result.returncode == 0, result.stderr
    assert output_files(tmp_path) == sorted(f"d{i}-{p}.mp4" for i in range(3) for p in ("160x90@10", "90x160@10"))
    assert JobStore(tmp_path / "home").counts()[JobState.DONE] == 6


def test_reel_worker_serves_metrics_on_a_loopback_port(tmp_path):
    import re
    import urllib.request

    env = service_env(tmp_path)
    supervisor = start_worker(env, "--metrics-port", "0")
    try:
        line = supervisor.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", line)
        assert match, line
        with urllib.request.urlopen(f"http://127.0.0.1:{match[1]}/metrics", timeout=5) as response:
            families = _parse(response.read().decode())
        assert families["reel_queue_depth"][()] == 0
        assert set(families["reel_jobs"]) == {(s,) for s in JobState.ALL}
        # The supervisor's heartbeat shows up as its worker count (none started yet).
        assert families["reel_workers"][()] == 0
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.communicate(timeout=30)
    assert supervisor.returncode == 0


def test_a_job_that_does_not_fit_in_free_memory_waits_for_the_running_one(tmp_path, monkeypatch):
    # Pretend the machine has 300 MB free: the small job (~270 MB planned with its
    # worker) fits alone, the 1080p one (~420 MB) only runs when nothing else does.
    monkeypatch.setattr("engine.jobs.supervisor.available_memory", lambda: 300 * 2**20)
    with LocalExecutor(settings_for(tmp_path), workers=2) as executor:
        first = job_for(tmp_path, slow_deck(200), "first", platform="640x360@30")  # still running after 1.5 s
        big = job_for(tmp_path, two_slide_deck(1.0, 0.5), "big", platform="1920x1080@10")
        executor.submit(first)
        rendering(executor.store, first.id)
        executor.submit(big)
        time.sleep(1.5)  # several dispatch rounds with a free worker slot
        assert executor.get(big.id).state == JobState.QUEUED
        done_first, done_big = executor.wait(first.id, timeout=60), executor.wait(big.id, timeout=60)
    assert done_first.state == done_big.state == JobState.DONE
    assert done_big.started >= done_first.finished


SUBMITTER = """
import sys
from engine.errors import QueueFullError
from engine.jobs import JobStore, OutputRequest, RenderJob
store = JobStore(sys.argv[1])
accepted = refused = 0
for i in range(10):
    job = RenderJob.for_deck({"slides": [{"kind": "title", "title": "x"}]}, [OutputRequest("160x90@10")])
    try:
        store.submit(job, queue_max=25)
        accepted += 1
    except QueueFullError:
        refused += 1
print(accepted, refused)
"""


def test_many_processes_submit_at_once_and_the_limit_holds_exactly(tmp_path):
    JobStore(tmp_path / "home")  # the schema, before the race
    children = [
        subprocess.Popen([sys.executable, "-c", SUBMITTER, str(tmp_path / "home")], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    totals = [tuple(map(int, child.communicate(timeout=60)[0].split())) for child in children]
    assert sum(a for a, _ in totals) == 25 and sum(r for _, r in totals) == 15
    records = JobStore(tmp_path / "home").list(limit=100)
    assert len(records) == len({r.id for r in records}) == 25
