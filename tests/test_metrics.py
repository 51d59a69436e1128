"""engine.metrics: durable counters in a real JobStore, read back through Prometheus's own parser."""

from __future__ import annotations

import logging
import math
import subprocess
import sys
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.jobs.cache import OutputCache
from engine.jobs.model import JobState, OutputRequest, RenderJob
from engine.jobs.store import JobStore
from engine.metrics import (
    ALERTS,
    RENDER_BUCKETS,
    WORKER_EVENTS,
    AlertMonitor,
    metrics_registry,
    metrics_text,
    record_error,
    record_render,
    record_worker_event,
    serve_metrics,
)
from engine.settings import Settings

OWNER = "testhost:123:456"
MIB = 1024 * 1024


def thresholds(**changes: float) -> Settings:
    values = {
        "alert_render_seconds": 120.0,
        "alert_worker_rss_mb": 2048.0,
        "alert_error_rate": 0.05,
        "alert_queue_depth": 50,
    }
    return Settings(**(values | changes))


def scrape(store: JobStore, cache: OutputCache | None = None) -> dict[tuple[str, frozenset], float]:
    """Every sample of `metrics_text`, parsed back, by (sample name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(metrics_text(store, cache))
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def submit(store: JobStore) -> str:
    return store.submit(RenderJob((OutputRequest(),), deck={"slides": []})).id


def finish_one(store: JobStore, *, failed: bool) -> None:
    job_id = submit(store)
    assert store.claim(OWNER, lease_s=60).id == job_id
    if failed:
        store.fail(job_id, "RenderError", "it broke", user_error=False, retry=False)
    else:
        store.finish(job_id, reports=[])


@pytest.fixture
def store(tmp_path) -> JobStore:
    return JobStore(tmp_path / "home")


def test_job_gauges_count_every_state_including_empty_ones(store):
    for _ in range(4):
        submit(store)
    done, failed, _running = (store.claim(OWNER, lease_s=60).id for _ in range(3))
    store.finish(done, reports=[])
    store.fail(failed, "RenderError", "it broke", user_error=False, retry=False)

    samples = scrape(store)

    expected = {JobState.QUEUED: 1, JobState.RUNNING: 1, JobState.DONE: 1, JobState.FAILED: 1, JobState.CANCELLED: 0}
    assert {state: value(samples, "reel_jobs", state=state) for state in JobState.ALL} == expected
    assert value(samples, "reel_queue_depth") == 1
    assert value(samples, "reel_error_rate") == 0.5


def test_render_histogram_is_cumulative_with_sum_and_count(store):
    for seconds in (0.5, 1.0, 1.5, 7.0, 45.0, 5000.0):
        record_render(store, seconds, frames=30)

    samples = scrape(store)

    bucket = {
        bound: value(samples, "reel_render_seconds_bucket", le=le)
        for bound, le in zip(
            RENDER_BUCKETS,
            ("1.0", "2.0", "5.0", "10.0", "20.0", "30.0", "60.0", "120.0", "300.0", "600.0", "1800.0", "+Inf"),
        )
    }
    assert bucket[1.0] == 2  # 1.0 counts in its own bucket: le means <=
    assert bucket[2.0] == 3
    assert bucket[5.0] == 3
    assert bucket[10.0] == 4
    assert bucket[60.0] == bucket[1800.0] == 5
    assert bucket[math.inf] == 6
    assert value(samples, "reel_render_seconds_count") == 6
    assert value(samples, "reel_render_seconds_sum") == pytest.approx(5055.0)
    assert store.counters()[("render_seconds_count", "")] == 6


def test_frames_per_second_is_frames_over_render_seconds(store):
    assert value(scrape(store), "reel_render_frames_per_second") == 0  # no render yet: 0, not a division error
    record_render(store, 2.0, frames=100)
    record_render(store, 3.0, frames=150)

    samples = scrape(store)

    assert value(samples, "reel_frames_rendered_total") == 250
    assert value(samples, "reel_render_frames_per_second") == pytest.approx(50.0)


def test_render_of_impossible_length_is_refused(store):
    with pytest.raises(ValueError, match="cannot take"):
        record_render(store, float("nan"), frames=1)
    assert store.counters() == {}


def test_errors_and_worker_restarts_are_counted_by_label(store):
    record_error(store, "EncodeError")
    record_error(store, "EncodeError")
    record_error(store, "AssetError")
    record_worker_event(store, "crashed")
    record_worker_event(store, "memory")
    record_worker_event(store, "memory")

    samples = scrape(store)

    assert value(samples, "reel_errors_total", type="EncodeError") == 2
    assert value(samples, "reel_errors_total", type="AssetError") == 1
    assert value(samples, "reel_worker_restarts_total", reason="memory") == 2
    assert value(samples, "reel_worker_restarts_total", reason="crashed") == 1
    assert value(samples, "reel_worker_restarts_total", reason="timeout") == 0  # every reason shown
    assert {labels for name, labels in samples if name == "reel_worker_restarts_total"} == {
        frozenset({("reason", reason)}) for reason in WORKER_EVENTS
    }


def test_unknown_worker_event_is_refused(store):
    with pytest.raises(ValueError, match="crashed, memory"):
        record_worker_event(store, "exploded")


def test_worker_gauges_come_from_fresh_heartbeats(store):
    store.heartbeat(
        OWNER,
        60,
        [
            {"pid": 1001, "rss": 100 * MIB, "busy": True, "job": "abc"},
            {"pid": 1002, "rss": 50 * MIB, "busy": False, "job": None},
        ],
    )
    store.heartbeat("otherhost:7:8", 60, [{"pid": 2001, "rss": 10 * MIB, "busy": True, "job": "def"}])

    samples = scrape(store)

    assert value(samples, "reel_workers") == 3
    assert value(samples, "reel_workers_busy") == 2
    assert value(samples, "reel_worker_rss_bytes", pid="1001") == 100 * MIB
    assert value(samples, "reel_worker_rss_bytes", pid="1002") == 50 * MIB
    assert value(samples, "reel_worker_rss_bytes", pid="2001") == 10 * MIB

    store.leave("otherhost:7:8")
    assert value(scrape(store), "reel_workers") == 2


def test_cache_metrics_only_with_a_cache(store, tmp_path):
    cache = OutputCache(tmp_path / "cache", max_bytes=1000)
    output = tmp_path / "out.mp4"
    output.write_bytes(b"x" * 300)
    cache.put("a" * 64, output, report={})
    assert cache.get("a" * 64) is not None
    assert cache.get("b" * 64) is None

    samples = scrape(store, cache)

    assert value(samples, "reel_cache_hits_total") == 1
    assert value(samples, "reel_cache_misses_total") == 1
    assert value(samples, "reel_cache_evictions_total") == 0
    assert value(samples, "reel_cache_damaged_total") == 0
    assert value(samples, "reel_cache_entries") == 1
    assert value(samples, "reel_cache_bytes") == 300
    assert value(samples, "reel_cache_max_bytes") == 1000
    assert not any(name.startswith("reel_cache_") for name, _ in scrape(store))


def test_every_alert_is_exposed_before_any_happened(store):
    samples = scrape(store)
    assert {alert: value(samples, "reel_alerts_total", alert=alert) for alert in ALERTS} == dict.fromkeys(ALERTS, 0)


def alert_count(store: JobStore, alert: str) -> float:
    return store.counters().get(("alerts", alert), 0)


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "engine.metrics" and r.levelno == logging.WARNING]


def test_slow_render_alerts_every_time(store, caplog):
    monitor = AlertMonitor(store, thresholds(alert_render_seconds=10.0))
    caplog.set_level(logging.WARNING, logger="engine.metrics")

    assert monitor.render_finished("job1", 10.0) is False  # at the threshold is not over it
    assert monitor.render_finished("job2", 11.0) is True
    assert monitor.render_finished("job3", 12.5) is True

    assert alert_count(store, "slow_render") == 2
    assert len(warnings(caplog)) == 2
    assert "job2" in warnings(caplog)[0] and "11.0 s" in warnings(caplog)[0] and "10.0 s" in warnings(caplog)[0]


def test_worker_memory_alerts_once_per_pid_until_it_drops(store, caplog):
    monitor = AlertMonitor(store, thresholds(alert_worker_rss_mb=100.0))
    caplog.set_level(logging.WARNING, logger="engine.metrics")

    assert monitor.worker_memory(10, 150 * MIB) is True
    assert monitor.worker_memory(10, 160 * MIB) is False  # still above: no second alert
    assert monitor.worker_memory(11, 150 * MIB) is True  # another worker alerts on its own
    assert monitor.worker_memory(10, 100 * MIB) is False  # back to the threshold re-arms it
    assert monitor.worker_memory(10, 101 * MIB) is True

    assert alert_count(store, "worker_memory") == 3
    assert len(warnings(caplog)) == 3
    assert "worker 10" in warnings(caplog)[0] and "150 MiB" in warnings(caplog)[0] and "100 MiB" in warnings(caplog)[0]


def test_error_rate_alerts_on_crossing_and_rearms(store, caplog):
    monitor = AlertMonitor(store, thresholds(alert_error_rate=0.3))
    caplog.set_level(logging.WARNING, logger="engine.metrics")

    assert monitor.job_finished() is False  # no finished job yet
    finish_one(store, failed=False)
    assert monitor.job_finished() is False
    finish_one(store, failed=True)  # 1 of 2
    assert monitor.job_finished() is True
    finish_one(store, failed=True)  # 2 of 3, still above
    assert monitor.job_finished() is False
    for _ in range(4):  # 2 of 7, under 30%
        finish_one(store, failed=False)
        monitor.job_finished()
    finish_one(store, failed=True)  # 3 of 8
    assert monitor.job_finished() is True

    assert alert_count(store, "error_rate") == 2
    assert len(warnings(caplog)) == 2
    assert "50%" in warnings(caplog)[0] and "30%" in warnings(caplog)[0]


def test_queue_depth_alerts_on_crossing_and_rearms(store, caplog):
    monitor = AlertMonitor(store, thresholds(alert_queue_depth=2))
    caplog.set_level(logging.WARNING, logger="engine.metrics")

    assert [monitor.queue_depth(n) for n in (1, 2, 3, 4, 2, 3)] == [False, False, True, False, False, True]

    assert alert_count(store, "queue_depth") == 2
    assert len(warnings(caplog)) == 2
    assert "3 jobs" in warnings(caplog)[0] and "threshold of 2" in warnings(caplog)[0]
    assert value(scrape(store), "reel_alerts_total", alert="queue_depth") == 2


def test_alerts_from_another_process_are_read_through_another_store(tmp_path):
    home = tmp_path / "home"
    JobStore(home)
    recorder = (
        "import sys\n"
        "from engine.jobs.store import JobStore\n"
        "from engine.metrics import AlertMonitor, record_error\n"
        "store = JobStore(sys.argv[1])\n"
        "from engine.settings import Settings\n"
        "monitor = AlertMonitor(store, Settings(alert_render_seconds=1.0, alert_worker_rss_mb=1.0,"
        " alert_error_rate=0.5, alert_queue_depth=1))\n"
        "monitor.render_finished('job1', 5.0)\n"
        "monitor.queue_depth(3)\n"
        "record_error(store, 'EncodeError')\n"
    )
    subprocess.run([sys.executable, "-c", recorder, str(home)], check=True, timeout=60)

    samples = scrape(JobStore(home))

    assert value(samples, "reel_alerts_total", alert="slow_render") == 1
    assert value(samples, "reel_alerts_total", alert="queue_depth") == 1
    assert value(samples, "reel_alerts_total", alert="worker_memory") == 0
    assert value(samples, "reel_errors_total", type="EncodeError") == 1


def test_registry_holds_only_reel_metrics(store):
    names = {metric.name for metric in metrics_registry(store).collect()}
    assert names and all(name.startswith("reel_") for name in names)
    assert "reel_jobs" in names


def test_served_metrics_answer_http_with_the_same_text(store):
    submit(store)
    record_render(store, 3.0, frames=90)
    server = serve_metrics(store, None, port=0)
    try:
        assert server.port > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as response:
            assert response.status == 200
            served = response.read().decode("utf-8")
    finally:
        server.close()

    assert served == metrics_text(store)
    assert "reel_queue_depth 1.0" in served
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5)
