"""What the rendering service is doing, as Prometheus metrics and log warnings.

Reel runs as several processes: supervisors, their workers, `reel submit`, `reel
metrics`. No one of them sees everything, and any of them may be killed. So nothing
here keeps a number in process memory: supervisors record events as durable counters
in the job store (`record_render`, `record_error`, `record_worker_event`,
`AlertMonitor`), and `ServiceCollector` builds every metric at scrape time from the
store's tables and counters and the output cache's index. Any process that can open
REEL_HOME reports the same numbers, and a restart loses none of them.

The one thing held in memory is which alerts are above their threshold right now,
in the supervisor's own `AlertMonitor`; a new supervisor starts with every alert armed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from .jobs.cache import OutputCache
from .jobs.model import JobState
from .jobs.store import JobStore

__all__ = [
    "ALERTS",
    "RENDER_BUCKETS",
    "WORKER_EVENTS",
    "AlertMonitor",
    "AlertThresholds",
    "MetricsServer",
    "ServiceCollector",
    "metrics_registry",
    "metrics_text",
    "record_error",
    "record_render",
    "record_worker_event",
    "serve_metrics",
]

log = logging.getLogger(__name__)

RENDER_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, float("inf"))
ALERTS = ("slow_render", "worker_memory", "error_rate", "queue_depth")
WORKER_EVENTS = ("crashed", "memory", "timeout", "recycled", "cancelled")
RECENT_JOBS = 100  # the error rate is over this many finished jobs
FRESH_WITHIN_S = 30.0  # a supervisor silent for longer has no workers worth showing
_MIB = 1024 * 1024


# -- recording (called by supervisors) ----------------------------------------


def record_render(store: JobStore, seconds: float, frames: int) -> None:
    """One output rendered (not served from the cache) in `seconds`, `frames` frames.

    Each render counts once, in the first bucket it fits (``seconds <= bound``); the
    collector adds the buckets up into Prometheus's cumulative ones.
    """
    if not seconds >= 0:  # NaN too
        raise ValueError(f"a render cannot take {seconds} seconds")
    bound = next(b for b in RENDER_BUCKETS if seconds <= b)
    store.count("render_seconds_bucket", floatToGoString(bound))
    store.count("render_seconds_sum", by=seconds)
    store.count("render_seconds_count")
    store.count("frames_total", by=frames)


def record_error(store: JobStore, error_type: str) -> None:
    """One failed attempt, whether or not the job is retried."""
    store.count("errors", error_type)


def record_worker_event(store: JobStore, reason: str) -> None:
    """One worker process replaced; `reason` is one of WORKER_EVENTS."""
    if reason not in WORKER_EVENTS:
        raise ValueError(f"unknown worker event {reason!r}; use one of {', '.join(WORKER_EVENTS)}")
    store.count("worker_restarts", reason)


# -- alerts -------------------------------------------------------------------


class AlertThresholds(Protocol):
    """The alert fields of `engine.settings.Settings` (any object with them will do)."""

    @property
    def alert_render_seconds(self) -> float: ...
    @property
    def alert_worker_rss_mb(self) -> float: ...
    @property
    def alert_error_rate(self) -> float: ...
    @property
    def alert_queue_depth(self) -> int: ...


class AlertMonitor:
    """Warns once per threshold crossing and counts it in the store's "alerts" counter.

    A slow render alerts every time. The others are edge-triggered: they alert when
    the value goes above the threshold and again only after it has come back to it or
    below. Each method returns whether it alerted.
    """

    def __init__(self, store: JobStore, thresholds: AlertThresholds) -> None:
        self.store = store
        self.thresholds = thresholds
        self._above: set[tuple[str, int | None]] = set()  # (alert, worker pid) now above

    def render_finished(self, job_id: str, seconds: float) -> bool:
        limit = self.thresholds.alert_render_seconds
        if seconds <= limit:
            return False
        self._alert(
            "slow_render",
            "job %s took %.1f s to render an output, over the %.1f s threshold (alert_render_seconds)",
            job_id,
            seconds,
            limit,
        )
        return True

    def worker_memory(self, pid: int, rss_bytes: int) -> bool:
        limit = self.thresholds.alert_worker_rss_mb
        if not self._crossed(("worker_memory", pid), rss_bytes > limit * _MIB):
            return False
        self._alert(
            "worker_memory",
            "worker %d uses %.0f MiB of memory, over the %.0f MiB threshold (alert_worker_rss_mb)",
            pid,
            rss_bytes / _MIB,
            limit,
        )
        return True

    def job_finished(self) -> bool:
        """Check the error rate over the last RECENT_JOBS finished jobs."""
        outcomes = self.store.recent_outcomes(RECENT_JOBS)
        rate, limit = _failed_share(outcomes), self.thresholds.alert_error_rate
        if not self._crossed(("error_rate", None), bool(outcomes) and rate > limit):
            return False
        self._alert(
            "error_rate",
            "%.0f%% of the last %d finished jobs failed, over the %.0f%% threshold (alert_error_rate)",
            rate * 100,
            len(outcomes),
            limit * 100,
        )
        return True

    def queue_depth(self, n: int) -> bool:
        limit = self.thresholds.alert_queue_depth
        if not self._crossed(("queue_depth", None), n > limit):
            return False
        self._alert(
            "queue_depth", "%d jobs are waiting in the queue, over the threshold of %d (alert_queue_depth)", n, limit
        )
        return True

    def _crossed(self, key: tuple[str, int | None], above: bool) -> bool:
        """Whether `key` has just gone above; remembers where it is now."""
        was_above = key in self._above
        if above:
            self._above.add(key)
        else:
            self._above.discard(key)
        return above and not was_above

    def _alert(self, name: str, message: str, *args: object) -> None:
        log.warning(message, *args)
        self.store.count("alerts", name)


# -- collection (any process, at scrape time) ---------------------------------


class ServiceCollector:
    """Builds every ``reel_*`` metric from the store (and the cache, if given) when scraped."""

    def __init__(self, store: JobStore, cache: OutputCache | None = None) -> None:
        self.store = store
        self.cache = cache

    def collect(self) -> Iterator[Metric]:
        counters = self.store.counters()
        yield from _job_metrics(self.store)
        yield from _render_metrics(counters)
        yield from _worker_metrics(self.store.supervisors(fresh_within=FRESH_WITHIN_S))
        yield _labelled_counter(
            "reel_errors_total", "Failed render attempts by error type, retried or not.", "type", counters, "errors"
        )
        yield _labelled_counter(
            "reel_alerts_total",
            "Alert thresholds crossed, by alert; the supervisor's log has a warning for each.",
            "alert",
            counters,
            "alerts",
            ALERTS,
        )
        yield _labelled_counter(
            "reel_worker_restarts_total",
            "Worker processes replaced, by reason.",
            "reason",
            counters,
            "worker_restarts",
            WORKER_EVENTS,
        )
        if self.cache is not None:
            yield from _cache_metrics(self.cache)


def metrics_registry(store: JobStore, cache: OutputCache | None = None) -> CollectorRegistry:
    """A registry of its own (not prometheus_client's global one) holding only Reel's metrics."""
    registry = CollectorRegistry()
    registry.register(ServiceCollector(store, cache))
    return registry


def metrics_text(store: JobStore, cache: OutputCache | None = None) -> str:
    """Every metric now, in Prometheus's text format."""
    return generate_latest(metrics_registry(store, cache)).decode("utf-8")


@dataclass
class MetricsServer:
    """prometheus_client's HTTP server answering on `host`:`port` in a daemon thread."""

    host: str
    port: int
    _server: WSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_metrics(store: JobStore, cache: OutputCache | None, host: str = "127.0.0.1", port: int = 0) -> MetricsServer:
    """Serve `metrics_text` over HTTP; port 0 takes a free port, reported as `.port`."""
    server, thread = start_http_server(port, addr=host, registry=metrics_registry(store, cache))
    return MetricsServer(host, server.server_address[1], server, thread)


def _job_metrics(store: JobStore) -> Iterator[Metric]:
    counts = store.counts()
    jobs = GaugeMetricFamily("reel_jobs", "Jobs in the queue's database, by state.", labels=["state"])
    for state in JobState.ALL:
        jobs.add_metric([state], counts[state])
    yield jobs
    yield GaugeMetricFamily(
        "reel_queue_depth", "Jobs waiting for a supervisor to claim them.", value=counts[JobState.QUEUED]
    )
    rate = _failed_share(store.recent_outcomes(RECENT_JOBS))
    yield GaugeMetricFamily(
        "reel_error_rate",
        f"Share of the last {RECENT_JOBS} finished jobs that failed (0 to 1; cancelled jobs not counted).",
        value=rate,
    )


def _render_metrics(counters: dict[tuple[str, str], float]) -> Iterator[Metric]:
    buckets, total = [], 0.0
    for bound in RENDER_BUCKETS:
        label = floatToGoString(bound)
        total += counters.get(("render_seconds_bucket", label), 0)
        buckets.append((label, total))
    seconds = counters.get(("render_seconds_sum", ""), 0.0)
    frames = counters.get(("frames_total", ""), 0)
    yield HistogramMetricFamily(
        "reel_render_seconds",
        "Seconds to render one output (outputs served from the cache not included).",
        buckets=buckets,
        sum_value=seconds,
    )
    yield CounterMetricFamily(
        "reel_frames_rendered_total",
        "Frames rendered into outputs (outputs served from the cache not included).",
        value=frames,
    )
    yield GaugeMetricFamily(
        "reel_render_frames_per_second",
        "Frames rendered per second of render time, over every render so far (0 before the first).",
        value=frames / seconds if seconds > 0 else 0.0,
    )


def _worker_metrics(supervisors: list[dict]) -> Iterator[Metric]:
    workers = [worker for supervisor in supervisors for worker in supervisor["workers"]]
    rss: dict[str, float] = {}
    for worker in workers:
        if worker.get("rss") is not None:  # no reading yet from a worker just started
            pid = str(worker["pid"])
            rss[pid] = rss.get(pid, 0) + worker["rss"]  # the same pid on two hosts: their sum
    yield GaugeMetricFamily(
        "reel_workers",
        f"Worker processes of supervisors heard from in the last {FRESH_WITHIN_S:.0f} s.",
        value=len(workers),
    )
    yield GaugeMetricFamily(
        "reel_workers_busy",
        "Of those workers, the ones running a job.",
        value=sum(1 for worker in workers if worker.get("busy")),
    )
    family = GaugeMetricFamily(
        "reel_worker_rss_bytes",
        "Resident memory of each worker process, in bytes, at its supervisor's last heartbeat.",
        labels=["pid"],
    )
    for pid, value in sorted(rss.items()):
        family.add_metric([pid], value)
    yield family


def _labelled_counter(
    name: str,
    help_text: str,
    label: str,
    counters: dict[tuple[str, str], float],
    counter: str,
    always: tuple[str, ...] = (),
) -> Metric:
    """A counter family from the store's `counter`, with 0 for each label in `always` not yet counted."""
    values = dict.fromkeys(always, 0.0) | {lbl: v for (n, lbl), v in counters.items() if n == counter}
    family = CounterMetricFamily(name, help_text, labels=[label])
    for value_label, value in sorted(values.items()):
        family.add_metric([value_label], value)
    return family


def _cache_metrics(cache: OutputCache) -> Iterator[Metric]:
    stats = cache.stats()
    for name, help_text, value in (
        ("hits", "Outputs served from the cache instead of rendered.", stats.hits),
        ("misses", "Cache lookups that found no usable entry.", stats.misses),
        ("evictions", "Cache entries dropped, least recently used first, to stay under the size cap.", stats.evictions),
        ("damaged", "Cache entries found damaged (wrong size or SHA-256, or missing) and dropped.", stats.damaged),
    ):
        yield CounterMetricFamily(f"reel_cache_{name}_total", help_text, value=value)
    yield GaugeMetricFamily("reel_cache_bytes", "Bytes the cached outputs take.", value=stats.bytes)
    yield GaugeMetricFamily("reel_cache_entries", "Outputs in the cache.", value=stats.entries)
    yield GaugeMetricFamily("reel_cache_max_bytes", "The cache's size cap in bytes.", value=stats.max_bytes)


def _failed_share(outcomes: list[str]) -> float:
    return outcomes.count(JobState.FAILED) / len(outcomes) if outcomes else 0.0
