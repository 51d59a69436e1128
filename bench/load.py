#!/usr/bin/env python
"""Load: many small jobs through one `reel serve`, from many concurrent clients, on loopback.

One `reel serve -j --workers` (REEL_HOME in a temporary folder, CACHE_SIZE_GB=0 so every
job really renders, REEL_QUEUE_MAX small so the queue fills) takes --jobs jobs from
--clients threads, each with its own token and its own `engine.client.Client` (httpx).
A client submits its next job (a 429 or 503 is counted and sent again after its
Retry-After), follows it on the event stream to the end, then reads it, lists its jobs
and downloads the video, which must decode. REEL_RATE_LIMIT is set high enough that
every 429 is the queue's.

It stops by itself: when every job is final, or after --timeout seconds (jobs not final
by then are "lost"). Then the server gets SIGTERM. Reported:

- API latency p50 / p95 / p99 per request kind (submit, get, list, download), and
  for every accepted submission including the ones refused first;
- jobs per minute (done jobs over the time from the first submission to the last end);
- 5xx answers (goal 0), 429s (the queue full), lost jobs (goal 0), failed jobs;
- the server's RSS before and after, its own and its children's (workers) apart.

    python bench/load.py                       # 200 jobs, 20 clients
    python bench/load.py --jobs 40 --clients 8 # a quick check

Results: bench/results/load-<date>.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.decks import decoded_frames, tiny_deck

REEL = [sys.executable, "-m", "engine.cli"]
KINDS = ("submit", "get", "list", "download")


class Tally:
    """What every client saw, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {kind: [] for kind in KINDS}
        self.statuses: Counter[int] = Counter()
        self.refusals: Counter[str] = Counter()  # 429 / 503 / 5xx messages
        self.jobs: dict[str, str] = {}  # job id → final state, or "lost"
        self.undecodable: list[str] = []
        self.errors: list[str] = []  # anything else a client hit
        self.unsubmitted = 0
        self.first_submit: float | None = None
        self.last_final: float | None = None

    def request(self, kind: str, seconds: float, status: int, message: str = "") -> None:
        with self.lock:
            self.statuses[status] += 1
            if 200 <= status < 300:
                self.latency[kind].append(seconds)
            elif message:
                self.refusals[f"{status} {message[:70]}"] += 1


def timed(tally: Tally, kind: str, call, ok: int = 200):
    """`call()`, its latency and status tallied; the server's refusals re-raised."""
    from engine.errors import ServerError

    started = time.perf_counter()
    try:
        result = call()
    except ServerError as exc:
        tally.request(kind, time.perf_counter() - started, exc.status, str(exc))
        raise
    tally.request(kind, time.perf_counter() - started, ok)
    return result


def client_loop(url: str, token: str, queue, tally: Tally, args, deadline: float, downloads: Path) -> None:
    from engine.client import Client
    from engine.errors import ServerError

    with Client(url, token, timeout=60.0) as client:
        for index in queue:
            if time.monotonic() >= deadline:
                with tally.lock:
                    tally.unsubmitted += 1
                continue
            deck = tiny_deck(index, seconds=args.seconds)
            job = None
            for _ in range(args.max_tries):
                try:
                    job = timed(
                        tally,
                        "submit",
                        lambda deck=deck: client.submit(
                            deck, platforms=[args.platform], quality="draft", thumbnail=False
                        ),
                        ok=201,
                    )
                    break
                except ServerError as exc:
                    if exc.status not in (429, 503) and exc.status < 500:
                        raise
                    time.sleep(min(30.0, exc.retry_after if exc.retry_after is not None else 1.0))
                if time.monotonic() >= deadline:
                    break
            if job is None:
                with tally.lock:
                    tally.unsubmitted += 1
                continue
            with tally.lock:
                tally.jobs[job["id"]] = "lost"
                if tally.first_submit is None:
                    tally.first_submit = time.monotonic()
            try:
                follow(client, job["id"], tally, deadline, downloads)
            except Exception as exc:  # noqa: BLE001 - tallied; the client goes on with its next job
                with tally.lock:
                    tally.errors.append(f"{job['id']}: {type(exc).__name__}: {exc}"[:200])


def follow(client, job_id: str, tally: Tally, deadline: float, downloads: Path) -> None:
    """Wait for the job on its event stream; then read it, list, download its video and decode it."""
    from engine.errors import JobFailedError

    try:
        final = client.wait(job_id, timeout=max(1.0, deadline - time.monotonic()))
        state = "done"
    except JobFailedError as exc:
        final, state = None, f"failed: {exc.error_type}: {exc}"
    except TimeoutError:
        return  # stays "lost"
    with tally.lock:
        tally.jobs[job_id] = state
        tally.last_final = time.monotonic()
    timed(tally, "get", lambda: client.get(job_id))
    timed(tally, "list", lambda: client.list(limit=20))
    if final is None:
        return
    video = next(o["name"] for o in final["outputs"] if o["kind"] == "video")
    folder = downloads / job_id  # every job's video has the same name
    (path,) = timed(tally, "download", lambda: client.download(job_id, video, dest=folder))
    if decoded_frames(path) <= 0:
        with tally.lock:
            tally.undecodable.append(job_id)
    path.unlink()
    folder.rmdir()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss(pid: int) -> dict:
    """The server's own RSS and its children's (the supervisor's workers), in MB."""
    import psutil

    server = psutil.Process(pid)
    children = 0
    count = 0
    for child in server.children(recursive=True):
        try:
            children += child.memory_info().rss
            count += 1
        except psutil.Error:
            pass
    return {"server_mb": server.memory_info().rss / 2**20, "children_mb": children / 2**20, "children": count}


def wait_ready(url: str, process: subprocess.Popen, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"reel serve exited with {process.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"reel serve was not ready within {timeout:g} s")


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"n": len(ordered), "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": at(1.0)}


def load(args, work: Path) -> dict:
    tokens = [f"load-{i}-{secrets.token_urlsafe(16)}" for i in range(args.clients)]
    hashes = ",".join(f"client{i}=sha256:{hashlib.sha256(t.encode()).hexdigest()}" for i, t in enumerate(tokens))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        REEL_HOME=str(work / "home"),
        REEL_API_TOKENS=hashes,
        REEL_QUEUE_MAX=str(args.queue_max),
        REEL_RATE_LIMIT="100000",
        CACHE_SIZE_GB="0",
        MAX_CONCURRENT_VIDEOS=str(args.workers),
    )
    log = (work / "serve.log").open("w")
    command = [*REEL, "serve", "--host", "127.0.0.1", "--port", str(port), "-j", str(args.workers)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    tally = Tally()
    try:
        wait_ready(url, server, 120.0)
        time.sleep(1.0)  # workers spawned
        before = rss(server.pid)
        deadline = time.monotonic() + args.timeout
        shared = iter(range(args.jobs))
        lock = threading.Lock()

        def jobs():
            while True:
                with lock:
                    index = next(shared, None)
                if index is None:
                    return
                yield index

        downloads = work / "downloads"
        downloads.mkdir()
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=client_loop, args=(url, tokens[i], jobs(), tally, args, deadline, downloads), daemon=True
            )
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()) + 120.0)
        elapsed = time.monotonic() - started
        after = rss(server.pid)
        hung = sum(t.is_alive() for t in threads)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            exit_code = server.wait(60.0)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            exit_code = server.wait()
        log.close()

    states = Counter(s.split(":")[0] for s in tally.jobs.values())
    span = (tally.last_final or 0.0) - (tally.first_submit or 0.0)
    every = list(itertools.chain.from_iterable(tally.latency.values()))
    return {
        "elapsed_s": round(elapsed, 1),
        "jobs_submitted": len(tally.jobs),
        "jobs_unsubmitted": tally.unsubmitted,
        "states": dict(states),
        "lost": states.get("lost", 0),
        "failed": sorted(s for s in tally.jobs.values() if s.startswith("failed")),
        "undecodable": tally.undecodable,
        "client_errors": tally.errors[:20],
        "client_error_count": len(tally.errors),
        "jobs_per_minute": round(states.get("done", 0) / span * 60.0, 1) if span > 0 else None,
        "latency": {kind: percentiles(tally.latency[kind]) for kind in KINDS} | {"all": percentiles(every)},
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "count_5xx": sum(v for k, v in tally.statuses.items() if k >= 500),
        "count_429": tally.statuses.get(429, 0),
        "refusals": dict(tally.refusals.most_common(8)),
        "rss_before": before,
        "rss_after": after,
        "clients_hung": hung,
        "server_exit_code": exit_code,
    }


def table(results: dict) -> str:
    r = results["load"]
    lines = [
        f"Reel load, {results['date']}: {results['machine']}",
        (
            f"{results['jobs']} jobs ({results['platform']} draft, {results['deck_seconds']:g} s), "
            f"{results['clients']} clients, reel serve -j {results['workers']}, REEL_QUEUE_MAX={results['queue_max']}"
        ),
        "",
        f"{'request':<10}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}",
    ]
    for kind, p in r["latency"].items():
        if p["n"]:
            lines.append(
                f"{kind:<10}{p['n']:>6}{p['p50_ms']:>10.1f}{p['p95_ms']:>10.1f}{p['p99_ms']:>10.1f}{p['max_ms']:>10.1f}"
            )
    b, a = r["rss_before"], r["rss_after"]
    lines += [
        "",
        f"jobs: {r['jobs_submitted']} submitted, {r['states']}, {r['jobs_unsubmitted']} never accepted",
        f"jobs per minute: {r['jobs_per_minute']}   (whole run {r['elapsed_s']} s)",
        (
            f"5xx: {r['count_5xx']}   429: {r['count_429']}   lost: {r['lost']}   failed: {len(r['failed'])}   "
            f"undecodable: {len(r['undecodable'])}   client errors: {r['client_error_count']}"
        ),
        f"statuses: {r['statuses']}",
        (
            f"server RSS: {b['server_mb']:.0f} MB before, {a['server_mb']:.0f} MB after; children: "
            f"{b['children_mb']:.0f} MB ({b['children']}) before, {a['children_mb']:.0f} MB ({a['children']}) after"
        ),
        f"server exit code after SIGTERM: {r['server_exit_code']}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200, help="jobs in all (default 200)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="render workers of the server (default 2)")
    parser.add_argument("--queue-max", type=int, default=8, help="REEL_QUEUE_MAX: small, so it fills (default 8)")
    parser.add_argument("--platform", default="160x90@10", help="output size (default 160x90@10)")
    parser.add_argument("--seconds", type=float, default=1.0, help="each deck's length (default 1 s)")
    parser.add_argument("--max-tries", type=int, default=200, help="submissions of one job before giving up")
    parser.add_argument("--timeout", type=float, default=900.0, help="stop after this many seconds (default 900)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="results folder")
    args = parser.parse_args()

    import psutil

    with tempfile.TemporaryDirectory(prefix="reel-load-") as temp:
        results = {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}",
            "jobs": args.jobs,
            "clients": args.clients,
            "workers": args.workers,
            "queue_max": args.queue_max,
            "platform": args.platform,
            "deck_seconds": args.seconds,
            "timeout_s": args.timeout,
            "load_before": os.getloadavg()[0],
        }
        results["load"] = load(args, Path(temp))
        results["load_after"] = os.getloadavg()[0]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"load-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
