#!/usr/bin/env python
"""Soak: many tiny jobs through one `reel worker` while workers are killed under them.

One supervisor (`reel worker -j 2`, REEL_HOME in a temporary folder, CACHE_SIZE_GB=0 so
every job really renders) takes --jobs jobs, each a two-slide deck with its own title
and its own output path, submitted straight into the queue (`JobStore.submit`). While
they run, a chaos loop SIGKILLs busy workers: about --kill-rate of the jobs (picked
with a seeded RNG; a pick that finishes before it is caught is swapped for a job still
waiting) lose their worker mid-job. The supervisor's own RSS is sampled every second.

When every job is final (or --timeout passes) the supervisor gets SIGTERM and is waited
for, and the bench checks what it left:

- success after retries: done / jobs (goal 100 %, bar 99.5 %), and the jobs that
  needed a retry;
- every job's output present exactly once and decoding with frames > 0;
- leaked files: anything in the output folder but the expected videos (hidden
  ``.part`` temporaries included), and leftovers in REEL_HOME/cache/tmp;
- the supervisor's RSS after warm-up (--warmup jobs final), at the end, and the drift;
- worker processes still alive after the supervisor stopped (goal 0).

    python bench/soak.py                        # 500 jobs, 5 % killed, 2 workers
    python bench/soak.py --jobs 30              # a quick check
    python bench/soak.py --kill-rate 0.2 --seed 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.decks import decoded_frames, tiny_deck

REEL = [sys.executable, "-m", "engine.cli"]


@dataclass
class Chaos:
    """Kills the worker of each target job once, while that job's output is being written.

    A job counts as busy for the chaos loop only once its worker has created the hidden
    temporary of its output (``engine.output.temporaries_of``): the queue says
    "running" for a while before and after the worker really works on it, and a kill
    there would hit an idle worker.
    """

    store: object
    supervisor_pid: int
    targets: set[str]
    paths: dict[str, Path]
    rng: random.Random
    poll: float
    max_delay: float
    watch: float = 0.5
    kills: list[dict] = field(default_factory=list)
    misses: int = 0
    skipped_not_child: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        from engine.jobs import JobState

        chosen = set(self.targets)
        last_sweep, swept_to = 0.0, 0.0
        while not self.stop.is_set():
            for record in self.store.list(JobState.RUNNING, limit=16):
                if record.id in self.targets and record.worker:
                    self._strike(record)
            now = time.monotonic()
            if now - last_sweep > 0.5:  # a target that ended uncaught: pick a job still waiting instead
                last_sweep = now
                waiting = None
                ended = self.store.finished_since(swept_to)
                swept_to = max([swept_to] + [r.finished - 1.0 for r in ended])  # a second of overlap: clocks race
                for job_id in sorted({r.id for r in ended} & self.targets):
                    self.targets.discard(job_id)
                    self.misses += 1
                    if waiting is None:
                        waiting = sorted(
                            r.id for r in self.store.list(JobState.QUEUED, limit=100_000) if r.id not in chosen
                        )
                    if waiting:
                        replacement = self.rng.choice(waiting)
                        waiting.remove(replacement)
                        chosen.add(replacement)
                        self.targets.add(replacement)
            time.sleep(self.poll)

    def _strike(self, record) -> None:
        """Wait (up to `watch` s) for the job's temporary output, then SIGKILL its worker."""
        import psutil

        from engine.output import temporaries_of

        pid = int(record.worker.split("@", 1)[0])
        try:
            if pid not in {p.pid for p in psutil.Process(self.supervisor_pid).children()}:
                self.skipped_not_child += 1
                return
        except psutil.Error:
            return
        target = self.paths[record.id]
        deadline = time.monotonic() + self.watch
        while time.monotonic() < deadline and not self.stop.is_set():
            if temporaries_of(target, record.id):
                time.sleep(self.rng.uniform(0, self.max_delay))  # land anywhere in the write
                if not temporaries_of(target, record.id):
                    return  # renamed into place meanwhile: finished
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    return
                killed_at = time.time()
                self.targets.discard(record.id)
                _wait_gone(pid, 2.0)
                # Where the write was when the worker really died: a temporary still there means
                # mid-write; only the finished output means the kill raced the rename.
                self.kills.append(
                    {
                        "job": record.id,
                        "pid": pid,
                        "attempt": record.attempts,
                        "at": killed_at,
                        "temporary_after_death": bool(temporaries_of(target, record.id)),
                        "output_after_death": target.is_file(),
                    }
                )
                return
            time.sleep(0.001)


def _wait_gone(pid: int, timeout: float) -> None:
    """Until `pid` is gone or a zombie (it is not our child, so it cannot be waited for)."""
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.Error:
            return
        time.sleep(0.001)


def _descendants(pid: int) -> dict[int, tuple[float, str]]:
    """pid → (create time, command line) of every descendant of `pid`."""
    import psutil

    found = {}
    try:
        for child in psutil.Process(pid).children(recursive=True):
            try:
                found[child.pid] = (child.create_time(), " ".join(child.cmdline())[:120])
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return found


def _still_running(seen: dict[int, tuple[float, str]]) -> list[dict]:
    """The processes of `seen` that still exist (same pid and start time) and are not zombies."""
    import psutil

    alive = []
    for pid, (created, cmdline) in seen.items():
        try:
            process = psutil.Process(pid)
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                alive.append({"pid": pid, "cmdline": cmdline})
        except psutil.Error:
            pass
    return alive


def soak(args, work: Path) -> dict:
    import psutil

    from engine.jobs import JobState, JobStore, OutputRequest, RenderJob

    home, out = work / "home", work / "out"
    out.mkdir(parents=True)
    store = JobStore(home)
    env = {k: v for k, v in os.environ.items() if k not in ("REEL_CONFIG", "QUALITY_PRESET")}
    env.update(
        REEL_HOME=str(home),
        CACHE_SIZE_GB="0",
        REEL_RETRY_BACKOFF=str(args.backoff),
        REEL_MAX_ATTEMPTS=str(args.max_attempts),
        REEL_QUEUE_MAX=str(max(1000, args.jobs)),
    )
    log_path = work / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen([*REEL, "worker", "-j", str(args.workers)], env=env, cwd=ROOT, stdout=log, stderr=log)
    supervisor = psutil.Process(worker.pid)

    started = time.time()
    jobs, expected = [], {}
    for index in range(args.jobs):
        path = out / f"{index // 100:03d}" / f"job{index:05d}.mp4"  # 100 per folder: cheap to scan
        path.parent.mkdir(exist_ok=True)
        job = RenderJob.for_deck(
            tiny_deck(index, seconds=args.seconds),
            [OutputRequest(platform=args.platform, quality=args.quality, path=str(path))],
            out_dir=out,
            base_dir=work,
        )
        store.submit(job, max_attempts=args.max_attempts, queue_max=max(1000, args.jobs))
        jobs.append(job.id)
        expected[job.id] = path
    submitted = time.time()

    rng = random.Random(args.seed)
    chaos = Chaos(
        store,
        worker.pid,
        set(rng.sample(jobs, round(args.kill_rate * args.jobs))),
        expected,
        rng,
        args.poll,
        args.max_delay,
    )
    chaos_thread = threading.Thread(target=chaos.run, name="chaos", daemon=True)
    chaos_thread.start()

    samples, seen = [], {}
    rss_start = None
    last_report = 0.0
    timed_out = False
    finished_at = None
    while True:
        counts = store.counts()
        final = sum(counts[s] for s in JobState.FINAL)
        try:
            rss = supervisor.memory_info().rss
        except psutil.Error:
            rss = None
        seen.update(_descendants(worker.pid))
        samples.append({"t": time.time() - started, "rss_mb": None if rss is None else rss / 2**20, "final": final})
        if rss_start is None and final >= min(args.warmup, args.jobs):
            rss_start = samples[-1]
        if time.monotonic() - last_report > 10:
            last_report = time.monotonic()
            print(
                f"  {time.time() - started:6.0f} s: {final}/{args.jobs} final, {counts[JobState.RUNNING]} running, "
                f"{len(chaos.kills)} kills, supervisor {samples[-1]['rss_mb'] or 0:.1f} MB",
                file=sys.stderr,
            )
        if final >= args.jobs:
            finished_at = time.time()
            break
        if worker.poll() is not None:
            print(f"  the supervisor exited early with {worker.returncode}", file=sys.stderr)
            break
        if time.time() - started > args.timeout:
            timed_out = True
            break
        time.sleep(1.0)
    rss_end = samples[-1]
    chaos.stop.set()
    chaos_thread.join()

    stop_started = time.monotonic()
    hung = False
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=args.grace + 30)
    except subprocess.TimeoutExpired:
        hung = True
        worker.kill()
        worker.wait()
    stop_seconds = time.monotonic() - stop_started
    time.sleep(1.0)  # workers told to die with their parent get a moment to do so
    strays = _still_running(seen)
    for stray in strays:  # the bench cleans up after itself; the count is what matters
        try:
            os.kill(stray["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass

    # What the queue says.
    records = {job_id: store.get(job_id) for job_id in jobs}
    states = Counter(r.state for r in records.values())
    outcomes = Counter(e["outcome"] for r in records.values() for e in r.history if e["outcome"] != "done")
    retried = [r.id for r in records.values() if any(e["outcome"] not in ("done", "requeued") for e in r.history)]
    lost_worker = [r.id for r in records.values() if any(e["outcome"] == "WorkerLost" for e in r.history)]
    kinds = Counter()
    for kill in chaos.kills:
        history = records[kill["job"]].history
        if any(e["outcome"] == "WorkerLost" and e.get("attempt") == kill["attempt"] for e in history):
            kill["kind"] = "landed"  # the attempt failed as WorkerLost and was retried
        elif kill["output_after_death"] and not kill["temporary_after_death"]:
            kill["kind"] = "after_rename"  # the output was already in place: the kill came too late
        else:
            kill["kind"] = "unexplained"  # died mid-write, yet no failed attempt: a bug to report
            kill["history"] = history
        kinds[kill["kind"]] += 1
    landed = kinds["landed"]
    not_done = [
        {
            "id": r.id,
            "state": r.state,
            "attempts": r.attempts,
            "error": f"{r.error_type}: {r.error_message}",
            "history": [e["outcome"] for e in r.history],
        }
        for r in records.values()
        if r.state != JobState.DONE
    ]

    # What the disk says.
    missing, undecodable = [], []
    for path in expected.values():
        if not path.is_file():
            missing.append(path.name)
        elif decoded_frames(path) <= 0:
            undecodable.append(path.name)
    wanted = {p.name for p in expected.values()}
    leaked = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name not in wanted)
    cache_tmp = home / "cache" / "tmp"
    leaked_cache = sorted(p.name for p in cache_tmp.iterdir()) if cache_tmp.is_dir() else []
    worker_log = log_path.read_text(errors="replace")

    ends = [r.finished for r in records.values() if r.finished is not None]
    wall = (max(ends) if ends and not timed_out else (finished_at or time.time())) - started
    done = states.get(JobState.DONE, 0)
    drift = None
    if rss_start and rss_start["rss_mb"] is not None and rss_end["rss_mb"] is not None:
        drift = rss_end["rss_mb"] - rss_start["rss_mb"]
    return {
        "jobs": args.jobs,
        "states": dict(states),
        "done": done,
        "success_rate": done / args.jobs,
        "kills": len(chaos.kills),
        "kills_landed_on_the_job": landed,
        "kills_after_rename": kinds["after_rename"],
        "kills_unexplained": [k for k in chaos.kills if k["kind"] == "unexplained"],
        "kill_targets_missed": chaos.misses,
        "kills_skipped_not_a_child": chaos.skipped_not_child,
        "jobs_with_worker_lost": len(lost_worker),
        "jobs_retried": len(retried),
        "failed_attempt_outcomes": dict(outcomes),
        "not_done": not_done[:20],
        "outputs_missing": missing,
        "outputs_undecodable": undecodable,
        "outputs_ok": args.jobs - len(missing) - len(undecodable),
        "leaked_files": leaked,
        "leaked_cache_tmp": leaked_cache,
        "supervisor_rss_start_mb": None if rss_start is None else rss_start["rss_mb"],
        "supervisor_rss_start_at_s": None if rss_start is None else rss_start["t"],
        "supervisor_rss_end_mb": rss_end["rss_mb"],
        "supervisor_rss_max_mb": max((s["rss_mb"] for s in samples if s["rss_mb"] is not None), default=None),
        "supervisor_rss_drift_mb": drift,
        "supervisor_exit_code": worker.returncode,
        "supervisor_hung_on_stop": hung,
        "stop_seconds": stop_seconds,
        "supervisors_registered_after_stop": len(store.supervisors(fresh_within=3600)),
        "processes_seen": len(seen),
        "stray_processes": strays,
        "timed_out": timed_out,
        "submit_seconds": submitted - started,
        "wall_seconds": wall,
        "jobs_per_minute": done / wall * 60,
        "worker_events": {
            f"{n}{'/' + l if l else ''}": v for (n, l), v in store.counters().items() if n.startswith("worker")
        },
        "worker_log_tail": worker_log[-3000:],
        "rss_samples": [
            (round(s["t"], 1), None if s["rss_mb"] is None else round(s["rss_mb"], 2), s["final"]) for s in samples
        ],
    }


def markdown(results: dict) -> str:
    r = results["soak"]

    def mb(value) -> str:
        return "–" if value is None else f"{value:.1f}"

    verdict = (
        "meets the goal"
        if r["success_rate"] == 1
        else ("above the bar" if r["success_rate"] >= 0.995 else "BELOW THE BAR")
    )
    rows = [
        (
            "jobs",
            f"{r['jobs']} ({results['platform']} {results['quality']}, {results['deck_seconds']:g} s, 2 slides each)",
        ),
        ("states at the end", ", ".join(f"{k} {v}" for k, v in sorted(r["states"].items()))),
        (
            "kills made (SIGKILL to a worker writing a target job)",
            (
                f"{r['kills']}: {r['kills_landed_on_the_job']} recorded "
                f"as WorkerLost on that job, {r['kills_after_rename']} too late (the output was already renamed into place), "
                f"{len(r['kills_unexplained'])} unexplained (target {results['kill_rate']:.0%} of jobs; {r['kill_targets_missed']} "
                "picks finished before they were caught and were swapped for waiting jobs)"
            ),
        ),
        (
            "jobs whose worker was lost under them",
            f"{r['jobs_with_worker_lost']} ({r['jobs_with_worker_lost'] / r['jobs']:.1%})",
        ),
        ("success after retries (done / jobs)", f"{r['success_rate']:.2%}: {verdict} (goal 100 %, bar 99.5 %)"),
        ("jobs that needed a retry", str(r["jobs_retried"])),
        (
            "failed attempts by cause",
            ", ".join(f"{k} {v}" for k, v in sorted(r["failed_attempt_outcomes"].items())) or "none",
        ),
        ("outputs present once and decoding (frames > 0)", f"{r['outputs_ok']} / {r['jobs']}"),
        (
            "leaked files in the output folder",
            str(len(r["leaked_files"])) + (f": {', '.join(r['leaked_files'][:10])}" if r["leaked_files"] else ""),
        ),
        (
            "leftovers in REEL_HOME/cache/tmp",
            str(len(r["leaked_cache_tmp"]))
            if r["leaked_cache_tmp"] or results["cache_size_gb"]
            else "none (no cache: CACHE_SIZE_GB=0)",
        ),
        (
            "supervisor RSS after warm-up",
            (
                f"{mb(r['supervisor_rss_start_mb'])} MB (after {results['warmup']} jobs, "
                f"{r['supervisor_rss_start_at_s'] or 0:.0f} s in)"
            ),
        ),
        (
            "supervisor RSS at the end / max",
            f"{mb(r['supervisor_rss_end_mb'])} MB / {mb(r['supervisor_rss_max_mb'])} MB",
        ),
        (
            "supervisor RSS drift",
            f"{r['supervisor_rss_drift_mb']:+.1f} MB" if r["supervisor_rss_drift_mb"] is not None else "–",
        ),
        ("stray worker processes after stop", str(len(r["stray_processes"])) + " (goal 0)"),
        (
            "supervisor stop (SIGTERM → exit)",
            f"{r['stop_seconds']:.1f} s, exit code {r['supervisor_exit_code']}"
            + (", HUNG (killed)" if r["supervisor_hung_on_stop"] else ""),
        ),
        (
            "wall time (first submit → last job final)",
            f"{r['wall_seconds']:.1f} s" + (" (TIMED OUT)" if r["timed_out"] else ""),
        ),
        ("jobs per minute (done / wall)", f"{r['jobs_per_minute']:.1f}"),
    ]
    lines = [
        f"# Reel soak, {results['date']}",
        "",
        f"Machine: {results['machine']}",
        "",
        (
            f"One `reel worker -j {results['workers']}`; REEL_HOME in a temporary folder, CACHE_SIZE_GB={results['cache_size_gb']:g}, "
            f"REEL_RETRY_BACKOFF={results['backoff']:g}, REEL_MAX_ATTEMPTS={results['max_attempts']}; seed {results['seed']}."
        ),
        "",
        "| measure | value |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in rows],
    ]
    if r["not_done"]:
        lines += ["", "Jobs not done:", ""] + [
            f"- {j['id']}: {j['state']} after {j['attempts']} attempt(s), {j['error']} ({' → '.join(j['history'])})"
            for j in r["not_done"]
        ]
    if r["kills_unexplained"]:
        lines += ["", "Kills mid-write with no failed attempt recorded:", ""] + [
            f"- job {k['job']} attempt {k['attempt']}, worker {k['pid']}: temporary after death {k['temporary_after_death']}, "
            f"output after death {k['output_after_death']}, history {[e['outcome'] for e in k['history']]}"
            for k in r["kills_unexplained"]
        ]
    if r["stray_processes"]:
        lines += ["", "Stray processes:", ""] + [f"- {p['pid']}: {p['cmdline']}" for p in r["stray_processes"]]
    lines += [
        "",
        (
            "Supervisor RSS is the `reel worker` process's own, sampled every second (its workers not included). "
            f"Load average (1 min) before / after: {results['load_before']:.2f} / {results['load_after']:.2f}."
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=500, help="jobs to submit (default 500)")
    parser.add_argument("--workers", type=int, default=2, help="`reel worker -j N` (default 2)")
    parser.add_argument(
        "--kill-rate", type=float, default=0.05, help="share of jobs whose worker is SIGKILLed (default 0.05)"
    )
    parser.add_argument("--seed", type=int, default=20240605, help="seed of the chaos RNG")
    parser.add_argument("--platform", default="160x90@10", help="each job's output (default 160x90@10)")
    parser.add_argument("--quality", default="standard", help="quality preset of each job (default standard)")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each job's deck (default 1)")
    parser.add_argument("--backoff", type=float, default=0.2, help="REEL_RETRY_BACKOFF (default 0.2)")
    parser.add_argument("--max-attempts", type=int, default=3, help="REEL_MAX_ATTEMPTS (default 3)")
    parser.add_argument("--warmup", type=int, default=20, help="jobs final before the start RSS is taken (default 20)")
    parser.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds (default 3600)")
    parser.add_argument("--grace", type=float, default=30, help="the worker's --grace default, for the stop wait")
    parser.add_argument("--poll", type=float, default=0.02, help="chaos loop poll, seconds (default 0.02)")
    parser.add_argument(
        "--max-delay",
        type=float,
        default=0.01,
        help="most seconds between a target's temporary output appearing and the kill (default 0.01)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="results folder")
    args = parser.parse_args()

    import psutil

    args.out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="reel-soak-"))
    try:
        soaked = soak(args, work)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    results = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}",
        "workers": args.workers,
        "kill_rate": args.kill_rate,
        "seed": args.seed,
        "platform": args.platform,
        "quality": args.quality,
        "deck_seconds": args.seconds,
        "backoff": args.backoff,
        "max_attempts": args.max_attempts,
        "warmup": args.warmup,
        "cache_size_gb": 0.0,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "soak": soaked,
    }
    (args.out / "soak.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "soak.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
