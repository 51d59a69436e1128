"""`run_job`: the one function that turns a `RenderJob` into files on disk.

Every executor (the local supervisor, `render_many`, a Ray task) ends up here, and
nothing else in the job layer touches GL or an encoder. It is safe to run twice: each
output is written to a temporary beside its target and renamed into place whole, and
with a cache, a second run finds the first one's outputs by their key and copies them.
Every target is checked before the first frame (`output.check_target`); two outputs
that would write one file are refused, and a report says when its file replaced one.

An output's key is the SHA-256 of the deck's canonical JSON, the contents of every
file it names, the resolved output settings, the encoder and compositor asked for, and
the engine's version: whatever could change a byte of the video.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..api import deck_name, output_path
from ..cover import thumbnail_path, write_thumbnail
from ..errors import InsufficientResourcesError, SpecError
from ..output import atomic_output, check_target, estimate_peak_memory, refuse_duplicate_targets, temporaries_of
from ..pipeline import RenderProgress, render_output
from ..platforms import QUALITIES, Output, resolve_output
from ..report import RenderReport
from ..spec import Deck, load_deck
from ..version import __version__
from .cache import OutputCache, file_sha256
from .model import OutputRequest, RenderJob

__all__ = [
    "JobProgress",
    "job_targets",
    "job_temporaries",
    "load_job_deck",
    "output_key",
    "remove_temporaries",
    "run_job",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobProgress:
    """Frames done of one output of a job (`index` of `outputs`)."""

    job_id: str
    output: str  # the output's label, e.g. "tiktok"
    index: int
    outputs: int
    frames_done: int
    frames_total: int
    elapsed: float

    @property
    def fraction(self) -> float:
        return self.frames_done / self.frames_total if self.frames_total else 1.0


JobProgressCallback = Callable[[JobProgress], None]


def load_job_deck(job: RenderJob) -> Deck:
    if job.deck_file is not None:
        return load_deck(job.deck_file, base_dir=job.base_dir)
    if job.deck is None:  # RenderJob refuses this; said again for the type checker
        raise SpecError("a job needs exactly one of deck (inline data) or deck_file (a path)", "deck")
    return load_deck(job.deck, base_dir=job.base_dir)


def resolve_request(request: OutputRequest) -> Output:
    from ..encode import codec_for

    return resolve_output(request.platform, request.quality, codec=codec_for(request.encoder, request.codec))


def job_targets(job: RenderJob, deck: Deck | None = None) -> list[Path]:
    """The file each output of `job` is written to."""
    name = deck_name(deck) if deck is not None else _name_without_loading(job)
    return [
        Path(r.path) if r.path else output_path(job.out_dir, name, resolve_request(r), r.format) for r in job.outputs
    ]


def job_temporaries(job: RenderJob) -> list[Path]:
    """The temporary files `job`'s outputs are being (or were being) written to; none
    for a job whose deck no longer loads (it wrote nothing)."""
    try:
        targets = job_targets(job)
    except Exception:  # noqa: BLE001 - a deck that no longer loads wrote nothing
        return []
    return [t for target in targets for t in temporaries_of(Path(target), job.id)]


def remove_temporaries(job: RenderJob) -> None:
    """Delete what a stopped or killed attempt of `job` was writing."""
    for leftover in job_temporaries(job):
        leftover.unlink(missing_ok=True)


def _name_without_loading(job: RenderJob) -> str:
    if job.deck_file is not None:
        return Path(job.deck_file).stem
    return deck_name(load_job_deck(job))


def output_key(
    deck: Deck, output: Output, request: OutputRequest, compositor: str, frames: tuple[int, int] | None = None
) -> str:
    """The cache key of one output (or of its chunk of `frames`): changes whenever a byte
    of the video could."""
    assets = {where: file_sha256(path) for where, path, _ in deck.asset_files()}
    described = {
        "engine": __version__,
        "deck": deck.model_dump(mode="json", exclude={"slides": {"__all__": {"figure"}}}),
        "assets": assets,
        "output": asdict(output),
        "encoder": request.encoder,
        "skip_holds": request.skip_holds,
        "format": request.format,
        "compositor": compositor,
        "frames": frames,
    }
    text = json.dumps(described, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def run_job(
    job: RenderJob,
    on_progress: JobProgressCallback | None = None,
    *,
    cache: OutputCache | None = None,
    memory_limit: int | None = None,
    encoder_threads: int | None = None,
) -> list[RenderReport]:
    """Make every output of `job`; one report per output, in order.

    `memory_limit` (bytes) is what this process may use: an output estimated to need
    more raises InsufficientResourcesError, or, if the job allows `step_down`, is made
    at the next lower quality preset instead (its report says so).
    """
    deck = load_job_deck(job)
    targets = job_targets(job, deck)
    labels = [resolve_request(r).label for r in job.outputs]
    thumbnails = [thumbnail_path(t) for t in targets] if job.thumbnail else []
    refuse_duplicate_targets(
        targets + thumbnails, labels + [f"{label}'s thumbnail" for label in labels if job.thumbnail]
    )
    for target in targets:  # what an earlier attempt of this job left when it was killed
        for leftover in temporaries_of(target, job.id):
            leftover.unlink(missing_ok=True)
    for target in targets + thumbnails:  # a path that cannot be written fails now, not after the first output
        check_target(target)
    started = time.perf_counter()
    reports = []
    for index, (request, target) in enumerate(zip(job.outputs, targets)):

        def progress(p: RenderProgress, index: int = index) -> None:
            if on_progress is not None:
                on_progress(
                    JobProgress(
                        job.id,
                        p.output,
                        index,
                        len(job.outputs),
                        p.frames_done,
                        p.frames_total,
                        time.perf_counter() - started,
                    )
                )

        reports.append(_run_output(job, deck, request, target, progress, cache, memory_limit, encoder_threads))
    return reports


def _run_output(job, deck, request, target, progress, cache, memory_limit, encoder_threads) -> RenderReport:
    asked = request.quality
    while True:
        output = resolve_request(request)
        replaces = target.exists()
        try:
            report = _render_or_reuse(
                job, deck, output, request, target, progress, cache, memory_limit, encoder_threads
            )
        except InsufficientResourcesError as exc:
            lower = _lower_quality(request.quality)
            if not job.step_down or lower is None:
                raise
            log.warning("%s: %s; stepping down from %s to %s quality", output.label, exc, request.quality, lower)
            request = replace(request, quality=lower)
            if request.path is None:  # the name says the quality it was made at
                target = output_path(job.out_dir, deck_name(deck), resolve_request(request), request.format)
            continue
        report.replaced = replaces
        if request.quality != asked:
            report.stepped_down_from = asked
            report.fallbacks.append(f"quality {asked} → {request.quality}: not enough memory for {asked}")
        return report


def _render_or_reuse(
    job, deck, output, request, target, progress, cache, memory_limit, encoder_threads
) -> RenderReport:
    if memory_limit is not None and estimate_peak_memory(output) > memory_limit:
        raise InsufficientResourcesError(
            f"a {output.width}x{output.height} render needs about {estimate_peak_memory(output) / 1e6:.0f} MB, "
            f"this worker may use {memory_limit / 1e6:.0f} MB"
        )
    if cache is None:
        return _render(job, deck, output, request, target, progress, encoder_threads)
    key = output_key(deck, output, request, job.compositor, job.frames)
    with cache.claim(key):  # an identical output rendering elsewhere finishes first
        entry = cache.get(key)
        if entry is not None:
            return _from_cache(job, cache, entry, target, progress, output.label)
        report = _render(job, deck, output, request, target, progress, encoder_threads)
        cache.put(key, target, report.to_dict())
        return report


def _render(job, deck, output, request, target, progress, encoder_threads) -> RenderReport:
    return render_output(
        deck,
        output,
        target,
        compositor=job.compositor,
        encoder=request.encoder,
        on_progress=progress,
        encoder_threads=encoder_threads,
        temp_tag=job.id,
        thumbnail=job.thumbnail,
        skip_holds=request.skip_holds,
        frames=job.frames,
        format=request.format,
    )


def _from_cache(job, cache, entry, target: Path, progress, label: str) -> RenderReport:
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(target, job.id) as temporary:
        cache.copy_to(entry, temporary)
    report = RenderReport.from_dict(entry.report)
    report.path = str(target)
    # The cached video carries its cover: the thumbnail is read back from it.
    report.thumbnail = str(write_thumbnail(target, report.cover_seconds or 0.0, job.id)) if job.thumbnail else None
    report.cache_hit = True
    report.wall_seconds = time.perf_counter() - started
    report.stage_seconds = {"cache": report.wall_seconds}
    progress(RenderProgress(label, report.frames, report.frames, report.wall_seconds))
    return report


def _lower_quality(quality: str) -> str | None:
    """The preset one step below `quality`: QUALITIES runs from draft up to maximum."""
    names = list(QUALITIES)
    position = names.index(quality)
    return names[position - 1] if position > 0 else None
