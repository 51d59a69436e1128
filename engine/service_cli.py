"""The service commands of `reel`: submit, jobs, worker, batch, config, metrics.

They share the queue and the cache under REEL_HOME (settings: `reel config`). `reel
render` stays the direct path: no queue, no state folder.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from .cli_args import output_options, positive_int

__all__ = ["add_commands"]


def add_commands(commands) -> None:
    submit = commands.add_parser("submit", help="queue a deck for rendering by `reel worker`; prints the job id")
    submit.add_argument("deck", help="deck file (.json, .yaml)")
    output_options(submit, many=True)
    _job_options(submit)
    submit.add_argument("--wait", action="store_true", help="wait for the job to end, with progress")
    submit.add_argument(
        "--server",
        type=_server_url,
        metavar="URL",
        help="submit to a `reel serve` (with its assets) instead of this machine's queue; "
        "with --wait, the outputs are downloaded into -o",
    )
    submit.add_argument("--token", help="the server's API token (default: REEL_TOKEN)")
    submit.set_defaults(run=_submit)

    jobs = commands.add_parser("jobs", help="list jobs; `jobs show|cancel|wait ID`")
    jobs.add_argument(
        "--state", choices=["queued", "running", "done", "failed", "cancelled"], help="only jobs in this state"
    )
    jobs.add_argument("--limit", type=positive_int, default=30, help="newest N jobs (default 30)")
    jobs.add_argument("--json", action="store_true", help="machine-readable output")
    jobs.set_defaults(run=_jobs_list)
    actions = jobs.add_subparsers(title="actions", metavar="ACTION")
    show = actions.add_parser("show", help="one job with its reports")
    show.add_argument("id", help="job id (a unique prefix will do)")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(run=_jobs_show)
    cancel = actions.add_parser("cancel", help="cancel a queued or running job")
    cancel.add_argument("id")
    cancel.set_defaults(run=_jobs_cancel)
    wait = actions.add_parser("wait", help="wait for a job to end, with progress; exit 0 if it is done")
    wait.add_argument("id")
    wait.add_argument("--timeout", type=float, default=None, metavar="SECONDS")
    wait.add_argument("-q", "--quiet", action="store_true", help="no progress")
    wait.set_defaults(run=_jobs_wait)

    worker = commands.add_parser("worker", help="run a supervisor of render workers in the foreground")
    worker.add_argument(
        "-j",
        "--workers",
        type=positive_int,
        default=None,
        help="worker processes (default: from MAX_CONCURRENT_VIDEOS, cores, memory)",
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve Prometheus metrics on this port (REEL_METRICS_HOST, loopback by default)",
    )
    worker.add_argument("--drain", action="store_true", help="exit once the queue is empty and no job runs")
    worker.add_argument(
        "--grace",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="on SIGTERM, time running jobs get to finish before they are queued again (default 30)",
    )
    worker.add_argument(
        "--ray",
        metavar="ADDRESS",
        default=None,
        help="submit the queued jobs to the Ray cluster at ADDRESS (host:port, or auto) instead of running "
        "worker processes here (also REEL_EXECUTOR=ray with REEL_RAY_ADDRESS; docs/cluster.md)",
    )
    worker.add_argument(
        "--ray-node-ip",
        metavar="IP",
        default=None,
        help="this machine's address as the Ray cluster sees it (127.0.0.1 for a cluster on loopback)",
    )
    worker.set_defaults(run=_worker)

    resources = commands.add_parser(
        "ray-resources",
        help="the custom Ray resources this node should advertise (JSON for `ray start --resources`)",
    )
    resources.add_argument(
        "--nvenc-sessions", type=positive_int, default=3, help="NVENC encodes at once where NVENC works (default 3)"
    )
    resources.set_defaults(run=_ray_resources)

    batch = commands.add_parser("batch", help="render many decks through the queue and local workers")
    batch.add_argument("decks", nargs="+", help="deck files")
    output_options(batch, many=True)
    _job_options(batch)
    batch.add_argument(
        "-j",
        "--workers",
        type=positive_int,
        default=None,
        help="worker processes (default: from settings, cores and memory)",
    )
    batch.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    batch.set_defaults(run=_batch)

    config = commands.add_parser("config", help="every effective setting and where it came from")
    config.add_argument("--json", action="store_true", help="machine-readable output")
    config.set_defaults(run=_config)

    metrics = commands.add_parser("metrics", help="print the service metrics (Prometheus text)")
    metrics.set_defaults(run=_metrics)


def _job_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--out", default=".", help="output folder (default: .)")
    parser.add_argument("--encoder", default="auto", help="auto (default) or an encoder name (see `reel doctor`)")
    parser.add_argument("--codec", help="h264 (default), hevc or av1")
    parser.add_argument(
        "--format",
        choices=("mp4", "webm", "gif"),
        default="mp4",
        help="mp4 (default); webm: VP9 or AV1 with Opus; gif: a looping preview",
    )
    parser.add_argument(
        "--step-down",
        action="store_true",
        help="if the machine is short of memory, render at a lower quality instead of failing",
    )
    parser.add_argument(
        "--thumbnail", action="store_true", help="also write each video's cover frame as a PNG beside it"
    )
    parser.add_argument(
        "--no-skip-holds",
        dest="skip_holds",
        action="store_false",
        help="encode every frame of a hold instead of writing its repeats as skip frames (x264)",
    )


# -- building jobs -------------------------------------------------------------------


def _platforms(args) -> list[str]:
    from .platforms import PLATFORMS, resolve_platform

    names = args.platforms or ["youtube"]
    if "all" in names:
        names = list(PLATFORMS)
    for name in names:
        resolve_platform(name)  # a bad name fails now, not in a worker
    return names


def _requests(args, settings) -> list:
    from .jobs import OutputRequest
    from .platforms import resolve_output

    quality = args.quality or settings.quality_preset
    requests = [
        OutputRequest(
            platform=p,
            quality=quality,
            codec=args.codec,
            encoder=args.encoder,
            skip_holds=args.skip_holds,
            format=args.format,
        )
        for p in _platforms(args)
    ]
    for request in requests:
        resolve_output(request.platform, request.quality, request.codec)
    return requests


def _job_for(deck: str, requests, args):
    from .jobs import RenderJob
    from .spec import load_deck

    load_deck(deck)  # a deck mistake is the submitter's to see, now
    return RenderJob.for_deck(
        deck, requests, out_dir=args.out, compositor=args.compositor, step_down=args.step_down, thumbnail=args.thumbnail
    )


def _executor(settings, **kwargs):
    from .jobs import LocalExecutor

    return LocalExecutor(settings, **kwargs)


# -- commands -------------------------------------------------------------------------


def _server_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"a server URL starts with http:// or https://, not {text[:60]!r}")
    return text


def _submit(args) -> int:
    from .settings import load_settings

    if args.server:
        return _submit_remote(args)
    settings = load_settings()
    job = _job_for(args.deck, _requests(args, settings), args)
    executor = _executor(settings, supervise=False, cache=False)
    record = executor.submit(job)
    print(record.id)
    if args.wait:
        return _wait(executor.store, record.id, None, quiet=False)
    return 0


def _submit_remote(args) -> int:
    """`reel submit --server`: upload through engine.client, follow the events, download."""
    local = [
        flag
        for flag, used in (
            ("--encoder", args.encoder != "auto"),
            ("--compositor", args.compositor != "auto"),
            ("--step-down", args.step_down),
        )
        if used
    ]
    if local:
        print(f"reel: error: {', '.join(local)} apply to this machine's queue, not to --server", file=sys.stderr)
        return 2
    try:
        from .client import Client
    except ImportError as exc:
        print(f"reel: error: {exc}", file=sys.stderr)
        return 2

    token = args.token or os.environ.get("REEL_TOKEN") or None
    with Client(args.server, token) as client:  # a SpecError's every error is printed by cli.main
        job = client.submit(
            args.deck,
            platforms=args.platforms,
            quality=args.quality,
            codec=args.codec,
            thumbnail=args.thumbnail,
            skip_holds=args.skip_holds,
            format=args.format,
        )
        print(job["id"])
        if not args.wait:
            return 0
        show = sys.stderr.isatty()

        def update(job: dict) -> None:
            if show:
                p = job["progress"]
                done = f"{p['fraction']:4.0%} ({p['frame']}/{p['frames']})" if job["state"] == "running" else "-"
                sys.stderr.write(f"\r{job['id']} {job['state']:<10} {done:<30}")
                sys.stderr.flush()

        try:
            client.wait(job["id"], on_progress=update)
        finally:
            if show:
                sys.stderr.write("\n")
        for path in client.download(job["id"], dest=args.out):
            print(path)
    return 0


def _jobs_list(args) -> int:
    from .jobs import JobStore
    from .settings import load_settings

    store = JobStore(load_settings().home)
    records = store.list(args.state, args.limit)
    if args.json:
        print(json.dumps([r.to_dict() for r in records], indent=2))
        return 0
    if not records:
        print("no jobs" + (f" {args.state}" if args.state else ""))
        return 0
    print(f"{'id':<14}{'state':<11}{'tries':>5}  {'submitted':<20}{'progress':<26}deck → outputs")
    for r in records:
        print(
            f"{r.id:<14}{r.state:<11}{r.attempts:>5}  {_when(r.submitted):<20}{_progress_text(r):<26}{_describe_job(r.job)}"
        )
    return 0


def _jobs_show(args) -> int:
    from .jobs import JobStore
    from .settings import load_settings

    record = JobStore(load_settings().home).get(args.id)
    if args.json:
        print(json.dumps(record.to_dict(), indent=2))
        return 0
    print(f"job {record.id}: {record.state}, attempt {record.attempts} of {record.max_attempts}")
    print(f"  deck      {_describe_job(record.job)}")
    print(
        f"  submitted {_when(record.submitted)}"
        + (f", started {_when(record.started)}" if record.started else "")
        + (f", ended {_when(record.finished)}" if record.finished else "")
    )
    if record.worker:
        print(f"  worker    {record.worker}")
    if record.state == "running":
        print(f"  progress  {_progress_text(record)}")
    if record.error_type:
        print(f"  error     {record.error_type}: {record.error_message}")
    for event in record.history:
        if event["outcome"] != "done":
            print(
                f"  attempt {event.get('attempt', '-')}: {event['outcome']}"
                + (f": {event['message']}" if event.get("message") else "")
            )
    from .report import RenderReport

    for report in record.reports:
        print("  " + RenderReport.from_dict(report).summary())
    return 0


def _jobs_cancel(args) -> int:
    from .jobs import JobStore
    from .settings import load_settings

    record = JobStore(load_settings().home).cancel(args.id)
    if record.state == "cancelled":
        print(f"job {record.id} cancelled")
    elif record.cancel_requested:
        print(f"job {record.id} is running; its worker has been asked to stop")
    else:
        print(f"job {record.id} already ended ({record.state})")
    return 0


def _jobs_wait(args) -> int:
    from .jobs import JobStore
    from .settings import load_settings

    return _wait(JobStore(load_settings().home), args.id, args.timeout, args.quiet)


def _wait(store, job_id: str, timeout: float | None, quiet: bool) -> int:
    from .jobs import raise_for_job, wait_for
    from .report import RenderReport

    show = not quiet and sys.stderr.isatty()

    def update(record) -> None:
        if show:
            sys.stderr.write(f"\r{record.id} {record.state:<10} {_progress_text(record):<40}")
            sys.stderr.flush()

    try:
        record = wait_for(store, job_id, timeout=timeout, poll=0.25, on_update=update)
    except TimeoutError as exc:
        print(f"reel: {exc}", file=sys.stderr)
        return 1
    if show:
        sys.stderr.write("\n")
    raise_for_job(record)  # a failed job exits as its error would have
    if not quiet:
        for report in record.reports:
            print(RenderReport.from_dict(report).summary())
    return 0


def _worker(args) -> int:
    from .jobs import JobStore, Supervisor, open_cache
    from .metrics import serve_metrics
    from .settings import load_settings

    settings = load_settings()
    if args.ray is not None or settings.executor == "ray":
        return _ray_worker(args, settings)
    store = JobStore(settings.home)
    cache = open_cache(settings)
    supervisor = Supervisor(store, settings, workers=args.workers, cache=cache)
    server = None
    if args.metrics_port is not None:
        server = serve_metrics(store, cache, settings.metrics_host, args.metrics_port)
        print(f"reel worker: metrics on http://{server.host}:{server.port}/metrics", file=sys.stderr)

    def stop(signum, frame) -> None:
        supervisor.stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    print(
        f"reel worker: {supervisor.id}, up to {supervisor.plan.capacity} workers, queue in {settings.home}",
        file=sys.stderr,
    )
    try:
        supervisor.run(drain=args.drain, grace=args.grace)
    finally:
        if server is not None:
            server.close()
    return 0


def _ray_worker(args, settings) -> int:
    """`reel worker --ray`: the queue under REEL_HOME, run as Ray tasks; stops on SIGTERM or Ctrl-C."""
    from .jobs import RayExecutor

    address = args.ray or settings.ray_address or None
    if address == "auto":
        address = None
    executor = RayExecutor(settings, address=address, home=settings.home, node_ip_address=args.ray_node_ip, cache=True)
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    shared = settings.shared_dir or "(REEL_SHARED_DIR not set: every path must be on storage all nodes share)"
    print(
        f"reel worker: {executor.owner} → Ray, up to {executor.slots()} jobs at once, "
        f"queue in {settings.home}, shared storage {shared}",
        file=sys.stderr,
    )
    try:
        while not stop.is_set():
            if executor.running < executor.slots() and executor.run_queued() is not None:
                continue
            if args.drain and executor.running == 0 and executor.store.counts()["queued"] == 0:
                break
            stop.wait(0.5)
    finally:
        executor.close()  # jobs still running go back to the queue
    return 0


def _ray_resources(args) -> int:
    from .jobs import node_resources

    print(json.dumps(node_resources(args.nvenc_sessions)))
    return 0


def _batch(args) -> int:
    from .errors import QueueFullError
    from .jobs import raise_for_job
    from .settings import load_settings

    settings = load_settings()
    requests = _requests(args, settings)
    # One job per deck and output, so the outputs of one deck render side by side.
    pending = [_job_for(deck, [r], args) for deck in args.decks for r in requests]
    display = None if args.quiet or not sys.stderr.isatty() else _BatchDisplay(len(pending))
    executor = _executor(settings, workers=args.workers)
    submitted: list[str] = []
    try:
        while pending or not all(executor.get(i).final for i in submitted):
            while pending:  # feed the queue as it has room: back-pressure, not a failure
                try:
                    submitted.append(executor.submit(pending[0], display).id)
                    pending.pop(0)
                except QueueFullError:
                    break
            if display:
                display.draw(executor.store, submitted)
            time.sleep(0.2)
    except KeyboardInterrupt:
        for job_id in submitted:
            executor.cancel(job_id)
        raise
    finally:
        executor.close()
    if display:
        display.draw(executor.store, submitted, final=True)
    failed = 0
    for job_id in submitted:
        record = executor.get(job_id)
        if record.state != "done":
            failed += 1
            print(
                f"{record.id} {_describe_job(record.job)}: {record.state}: {record.error_type}: {record.error_message}",
                file=sys.stderr,
            )
        elif not args.quiet:
            from .report import RenderReport

            for report in record.reports:
                print(RenderReport.from_dict(report).summary())
    if failed:
        print(f"reel batch: {failed} of {len(submitted)} jobs failed", file=sys.stderr)
        first = next(executor.get(i) for i in submitted if executor.get(i).state != "done")
        raise_for_job(first)
    return 0


def _config(args) -> int:
    from .settings import load_settings

    rows = load_settings().describe()
    if args.json:
        print(json.dumps({name: {"value": value, "source": source} for name, value, source in rows}, indent=2))
        return 0
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        print(f"{name:<{width}}  {value:<28} {source}")
    return 0


def _metrics(args) -> int:
    from .jobs import JobStore, open_cache
    from .metrics import metrics_text
    from .settings import load_settings

    settings = load_settings()
    sys.stdout.write(metrics_text(JobStore(settings.home), open_cache(settings)))
    return 0


# -- display --------------------------------------------------------------------------


class _BatchDisplay:
    """One line for a whole batch: jobs done, frames rendered across every worker, fps."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.frames: dict[tuple[str, int], int] = {}
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, progress) -> None:  # from the supervisor thread, frame by frame
        with self._lock:
            self.frames[(progress.job_id, progress.index)] = progress.frames_done

    def draw(self, store, submitted: list[str], final: bool = False) -> None:
        states = [store.get(i).state for i in submitted]
        with self._lock:
            frames = sum(self.frames.values())
        elapsed = time.monotonic() - self.started
        done = sum(s in ("done", "failed", "cancelled") for s in states)
        sys.stderr.write(
            f"\rbatch: {done}/{self.jobs} jobs, {states.count('running')} running, "
            f"{frames} frames, {frames / elapsed if elapsed else 0:5.0f} fps, {elapsed:5.0f} s "
        )
        if final:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _describe_job(job) -> str:
    deck = Path(job.deck_file).name if job.deck_file else "(inline deck)"
    outputs = ", ".join(o.platform + ("" if o.quality == "standard" else f"-{o.quality}") for o in job.outputs)
    return f"{deck} → {outputs}"


def _progress_text(record) -> str:
    p = record.progress
    if record.state != "running" or not p:
        return "-"
    fraction = p["frames_done"] / p["frames_total"] if p["frames_total"] else 1.0
    return f"{p['output']} {p['index'] + 1}/{p['outputs']} {fraction:4.0%} ({p['frames_done']}/{p['frames_total']})"


def _when(stamp: float | None) -> str:
    return "-" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))
