"""One output made as chunks: chunk jobs fan out to an executor, a join fans them in.

`ChunkPlan.of(job, n)` cuts the job's one output into chunk jobs at keyframes
(`engine.chunks.plan_chunks`). Each chunk job is an ordinary `RenderJob` with `frames`
set, so any executor runs it: a local worker process or a Ray task. Finished chunks
wait in a folder beside the target, named by the output's key (`run.output_key`), each
with its report; a plan made again for the same output (after a crash, a cancelled
run, a killed worker) reuses every finished chunk and submits only the others. `join`
copies the chunks' packets into the target, adds the soundtrack and the cover once for
the whole video, and removes the folder. `render_chunked` encodes the soundtrack in the
driver while the chunks render (it needs only the video's length), so the join only
copies its packets in.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..audio import AudioStats, BackgroundSoundtrack, mux_audio, mux_soundtrack, soundtrack_in_background
from ..captions import mux_soft_track, write_sidecars
from ..chunks import join_chunks, plan_chunks
from ..cover import attach_cover, decoded_frame, png_bytes, write_thumbnail
from ..errors import JobFailedError, RenderError, SpecError
from ..output import atomic_output, check_target
from ..report import RenderReport, deck_sha256, written_profile
from ..spec import Deck
from ..timeline import build_timeline
from .model import JobState, RenderJob
from .run import JobProgress, job_targets, load_job_deck, output_key, resolve_request

__all__ = ["ChunkPlan", "auto_chunks", "render_chunked"]

# A chunk shorter than this costs more in process start, compositor and encoder setup
# than running it beside the others saves.
_MIN_CHUNK_SECONDS = 10.0


def auto_chunks(seconds: float, workers: int) -> int:
    """How many chunks `--chunks auto` makes of a `seconds`-long video for `workers` workers."""
    return max(1, min(workers, math.floor(seconds / _MIN_CHUNK_SECONDS)))


@dataclass
class ChunkPlan:
    """The chunks of one output: `jobs` to run (the finished ones already have reports)."""

    job: RenderJob  # the whole output's job
    deck: Deck  # as loaded once for the plan: its chunks' spans, the join's sound, cover and captions
    target: Path
    folder: Path
    spans: list[tuple[int, int]]
    fps: int
    jobs: list[RenderJob]  # one per span
    reports: dict[int, dict] = field(default_factory=dict)  # span index → a finished chunk's report

    @classmethod
    def of(cls, job: RenderJob, chunks: int) -> ChunkPlan:
        if job.frames is not None or len(job.outputs) != 1:
            raise SpecError("a chunked render is of one whole output", "chunks")
        deck = load_job_deck(job)
        [target] = job_targets(job, deck)
        check_target(target)
        request = job.outputs[0]
        output = resolve_request(request)
        frame_count = build_timeline(deck.timings(), output.fps).frame_count
        if frame_count == 0:
            raise SpecError(f"the deck lasts less than one frame at {output.fps} fps", "slides")
        spans = plan_chunks(frame_count, output.gop, chunks)
        key = output_key(deck, output, request, job.compositor)
        folder = target.parent / f".{target.name}.chunks-{key[:16]}"
        jobs = []
        for index, span in enumerate(spans):
            path = folder / f"{index:03d}-{span[0]}-{span[1]}.mp4"
            chunk_request = replace(request, path=str(path))
            jobs.append(
                replace(
                    job,
                    outputs=(chunk_request,),
                    frames=span,
                    step_down=False,
                    thumbnail=False,
                    id=f"{job.id}-c{index:03d}",
                )
            )
        plan = cls(job, deck, target, folder, spans, output.fps, jobs)
        for index, chunk_job in enumerate(jobs):  # what an earlier run finished
            report = plan._report_path(index)
            if report.exists() and Path(chunk_job.outputs[0].path or "").exists():
                plan.reports[index] = json.loads(report.read_text())
        return plan

    @property
    def frame_count(self) -> int:
        return self.spans[-1][1]

    @property
    def pending(self) -> list[RenderJob]:
        """The chunk jobs still to run."""
        return [job for index, job in enumerate(self.jobs) if index not in self.reports]

    def frames_reused(self) -> int:
        return sum(self.spans[i][1] - self.spans[i][0] for i in self.reports)

    def finished(self, chunk_job: RenderJob, report: dict) -> None:
        """Record that `chunk_job` wrote its chunk (its report is kept beside it for a later run)."""
        index = self.jobs.index(chunk_job)
        self.reports[index] = report
        path = self._report_path(index)
        path.write_text(json.dumps(report))

    def _report_path(self, index: int) -> Path:
        return self.folder / f"{index:03d}.json"

    def join(self, soundtrack: BackgroundSoundtrack | None = None) -> RenderReport:
        """Join the finished chunks into the target, with sound and cover; the output's report.

        `soundtrack`, encoded beside the chunks (`render_chunked`), is muxed as it is;
        without it the deck's sound is mixed and encoded here.
        """
        missing = [i for i in range(len(self.spans)) if i not in self.reports]
        if missing:
            raise RenderError(f"{self.target}: chunk(s) {missing} are not finished")
        started = time.perf_counter()
        deck = self.deck
        parts = [Path(self.jobs[i].outputs[0].path or "") for i in range(len(self.spans))]
        replaces = self.target.exists()
        with atomic_output(self.target, self.job.id) as temporary:
            joined = join_chunks(parts, self.spans, temporary, self.fps)
            audio_plan = deck.audio_plan(self.fps)
            audio: AudioStats | None = None
            if soundtrack is not None:
                audio = mux_soundtrack(temporary, soundtrack.result(), temporary)
            elif audio_plan is not None:
                audio = mux_audio(temporary, temporary, audio_plan)
            cover_seconds = min(deck.cover_seconds(), (self.frame_count - 1) / self.fps)
            rgb = decoded_frame(temporary, cover_seconds)
            attach_cover(temporary, png_bytes(rgb), rgb.shape[1], rgb.shape[0])
            # Captions are burned into each chunk; the soft track and the side files are
            # of the whole video, as a whole render makes them.
            cues = self._caption_cues(deck)
            if cues and deck.captions is not None and deck.captions.soft:
                mux_soft_track(temporary, cues, deck.captions.language)
        if cues and (deck.captions is None or deck.captions.sidecar):
            write_sidecars(self.target, cues, self.job.id)
        thumbnail = write_thumbnail(self.target, cover_seconds, self.job.id) if self.job.thumbnail else None
        shutil.rmtree(self.folder, ignore_errors=True)
        report = self._report(
            joined.keyframes, audio, cover_seconds, thumbnail, replaces, time.perf_counter() - started
        )
        report.deck_sha256 = deck_sha256(deck)
        written = written_profile(self.target)
        report.profile, report.level = written["profile"], written["level"]
        return report

    def _caption_cues(self, deck) -> list:
        timeline = build_timeline(deck.timings(), self.fps)
        return deck.caption_cues(timeline.slide_starts, timeline.duration)  # none for a deck without captions

    def _report(self, keyframes, audio, cover_seconds, thumbnail, replaces, join_seconds) -> RenderReport:
        chunks = [self.reports[i] for i in range(len(self.spans))]
        first = chunks[0]
        psnr: dict[str, float | None] = {}
        for chunk in chunks:
            psnr.update(chunk.get("keyframe_psnr") or {})
        worst = [c["psnr_db"] for c in chunks if c.get("psnr_db") is not None]
        stages: dict[str, float] = {"join": round(join_seconds, 4)}
        for chunk in chunks:
            for stage, seconds in (chunk.get("stage_seconds") or {}).items():
                stages[stage] = round(stages.get(stage, 0.0) + seconds, 4)
        return RenderReport(
            path=str(self.target),
            platform=first["platform"],
            quality=first["quality"],
            width=first["width"],
            height=first["height"],
            fps=first["fps"],
            frames=self.frame_count,
            duration=self.frame_count / self.fps,
            compositor=first["compositor"],
            renderer=first["renderer"],
            encoder=first["encoder"],
            holds=first["holds"],
            holds_reason=first.get("holds_reason"),
            coded_frames=sum(c.get("coded_frames") or 0 for c in chunks) or None,
            # The chunks ran side by side: the longest is the video's render time.
            wall_seconds=max(c["wall_seconds"] for c in chunks) + join_seconds,
            stage_seconds=stages,
            peak_rss_mb=max(c["peak_rss_mb"] for c in chunks),
            bytes=self.target.stat().st_size,
            fallbacks=sorted({f for c in chunks for f in c.get("fallbacks", [])}),
            slides_uploaded=sum(c.get("slides_uploaded", 0) for c in chunks),
            composited_frames=sum(c.get("composited_frames", 0) for c in chunks),
            psnr_db=min(worst) if worst else None,
            warnings=sorted({w for c in chunks for w in c.get("warnings", [])}),
            audio=None if audio is None else audio.summary(),
            cover_seconds=round(cover_seconds, 4),
            thumbnail=None if thumbnail is None else str(thumbnail),
            replaced=replaces,
            chunks=[
                {**c, "keyframes": [k for k in keyframes if c["frame_range"][0] <= k < c["frame_range"][1]]}
                for c in chunks
            ],
            keyframe_psnr=dict(sorted(psnr.items(), key=lambda item: int(item[0]))),
        )


def render_chunked(
    executor, job: RenderJob, chunks: int, on_progress=None, timeout: float | None = None
) -> RenderReport:
    """Render `job`'s one output as `chunks` chunks on any executor (local, Ray), then join.

    The plan's pending chunk jobs are submitted at once and waited for; each finished
    chunk is recorded beside the target (`ChunkPlan.finished`), so a driver started again
    after a crash renders only the chunks still missing. The join runs here: it copies
    packets and muxes the sound, no GL. `on_progress(JobProgress)` gets the frames done
    across all chunks, as one output of `job`. A failed chunk raises JobFailedError
    after the others are cancelled.
    """
    plan = ChunkPlan.of(job, chunks)
    started = time.perf_counter()
    reused = plan.frames_reused()  # before this run's chunks are recorded as finished too
    done: dict[str, int] = {}

    def relay(progress: JobProgress) -> None:
        done[progress.job_id] = progress.frames_done
        if on_progress is not None:
            frames = reused + sum(done.values())
            on_progress(
                JobProgress(job.id, progress.output, 0, 1, frames, plan.frame_count, time.perf_counter() - started)
            )

    audio_plan = plan.deck.audio_plan(plan.fps)
    with ExitStack() as scope:
        soundtrack = None
        if audio_plan is not None:
            audio_plan.check()  # a bad audio file fails now, before any chunk renders
            seconds = plan.frame_count / plan.fps
            soundtrack = scope.enter_context(soundtrack_in_background(audio_plan, seconds, plan.target))
        pending = plan.pending
        for chunk_job in pending:
            executor.submit(chunk_job, relay)
        try:
            for chunk_job in pending:
                record = executor.wait(chunk_job.id, timeout=timeout)
                if record.state != JobState.DONE:
                    raise JobFailedError(
                        f"chunk {chunk_job.id} of {plan.target.name}: {record.state}: "
                        f"{record.error_type}: {record.error_message}",
                        chunk_job.id,
                        record.error_type or record.state,
                        bool(record.user_error),
                    )
                plan.finished(chunk_job, record.reports[0])
        except BaseException:
            for chunk_job in pending:
                executor.cancel(chunk_job.id)
            raise
        return plan.join(soundtrack)
