"""Many outputs of one deck: one worker process per output, as many as the machine holds.

Each worker has its own compositor (GL context) and encoder. How many run at once
comes from the cores (x264 already uses two threads per encode) and free memory.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Sequence

import psutil

from ._host import usable_cores
from .api import deck_name, output_path
from .pipeline import ProgressCallback, RenderProgress, render_output
from .platforms import resolve_output
from .report import RenderReport
from .spec import Deck, load_deck

__all__ = ["render_many", "default_jobs"]

# Peak RSS of one 1080p render, measured with bench/run.py, rounded up.
_MEMORY_PER_JOB = 400 * 2**20


def default_jobs(outputs: int) -> int:
    """Parallel renders this machine can take: ≤ cores / 2, ≤ memory / 400 MB."""
    by_memory = psutil.virtual_memory().available // _MEMORY_PER_JOB
    return max(1, min(outputs, usable_cores() // 2, by_memory))


def _render_one(deck: Deck, output, target: Path, compositor: str, encoder: str, threads: int) -> RenderReport:
    return render_output(deck, output, target, compositor=compositor, encoder=encoder, encoder_threads=threads)


def render_many(
    deck: Deck | dict | str | Path,
    out_dir: str | Path,
    platforms: Sequence[str],
    *,
    quality: str = "standard",
    compositor: str = "auto",
    encoder: str = "auto",
    jobs: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[RenderReport]:
    """Render `deck` once per platform into `out_dir`; reports in `platforms` order.

    With one job the renders run here, one after another, reporting progress frame
    by frame; with more they run in worker processes and progress is reported as each
    output finishes.
    The first failure cancels the renders not yet started and is raised.
    """
    deck = load_deck(deck)
    outputs = [resolve_output(p, quality) for p in platforms]  # bad names fail before any work
    name = deck_name(deck)
    targets = [output_path(out_dir, name, o) for o in outputs]
    jobs = jobs or default_jobs(len(outputs))
    if jobs <= 1 or len(outputs) == 1:
        return [
            render_output(deck, o, t, compositor=compositor, encoder=encoder, on_progress=on_progress)
            for o, t in zip(outputs, targets)
        ]
    # spawn, not fork: a forked child would inherit the parent's threads and GL state.
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    # The cores are shared out, or N encoders each starting one thread per core would
    # fight over them.
    threads = max(1, usable_cores() // jobs)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(_render_one, deck, o, t, compositor, encoder, threads) for o, t in zip(outputs, targets)]
        try:
            for future in as_completed(futures):
                report = future.result()  # the first failure propagates from here
                if on_progress is not None:
                    label = outputs[futures.index(future)].label
                    elapsed = time.perf_counter() - started
                    on_progress(RenderProgress(label, report.frames, report.frames, elapsed))
        except BaseException:
            for future in futures:
                future.cancel()  # those not started; running ones finish or fail on their own
            raise
        return [f.result() for f in futures]
