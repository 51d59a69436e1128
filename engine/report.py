"""What a render did: `RenderReport`, one per output file.

Besides the figures, a report says where the file came from: the Reel version, a
hash of the deck (`deck_sha256`), the profile and level the video stream declares
(`written_profile`, read back from the file) and when it was made (UTC).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypedDict

from .version import __version__

__all__ = ["RenderReport", "WrittenProfile", "check_report_path", "deck_sha256", "write_reports", "written_profile"]


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def deck_sha256(deck: Any) -> str:
    """SHA-256 of the validated deck's canonical JSON (sorted keys, no spaces), the form
    the output cache's key takes it in (`engine.jobs.run.output_key`): the same deck
    gives the same hash, whatever its file's spelling. Asset paths are absolute in it,
    so the deck's place counts; the assets' bytes do not."""
    data = deck.model_dump(mode="json", exclude={"slides": {"__all__": {"figure"}}})
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class WrittenProfile(TypedDict):
    profile: str | None
    level: str | None


def written_profile(path: str | Path) -> WrittenProfile:
    """``{"profile": ..., "level": ...}`` of the video stream in `path`, as its sequence
    header declares them (``"High"``, ``"4.1"``); None for what the file does not say
    (a GIF; AV1's level, which PyAV does not give)."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return {"profile": None, "level": None}
            context = container.streams.video[0].codec_context
            profile, level, codec = context.profile, context.level, context.name
    except (av.FFmpegError, OSError):
        return {"profile": None, "level": None}
    if not isinstance(level, int) or level <= 0 or codec not in ("h264", "hevc"):
        shown = None
    elif codec == "hevc":  # general_level_idc is 30 × the level
        shown = f"{level / 30:g}"
    else:  # level_idc is 10 × the level (1b is 9)
        shown = "1b" if level == 9 else f"{level / 10:g}"
    return {"profile": profile or None, "level": shown}


@dataclass
class RenderReport:
    path: str
    platform: str
    quality: str
    width: int
    height: int
    fps: int
    frames: int
    duration: float  # seconds of video
    compositor: str  # "gl-gpu" | "gl-software" | "cpu"
    renderer: str  # GL_RENDERER string, or "numpy"
    encoder: str  # e.g. "libx264"
    wall_seconds: float
    holds: str = "encoded"  # "skipped": holds written as skip frames, not encoded (x264, skip_holds)
    holds_reason: str | None = None  # why holds were encoded although skipping was asked for
    coded_frames: int | None = None  # frames the encoder coded; the rest of `frames` were skip frames
    # Seconds spent per stage. raster/upload/composite run on the render thread and
    # overlap with encode, so they can sum to more than the wall time.
    stage_seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    bytes: int = 0
    fallbacks: list[str] = field(default_factory=list)
    slides_uploaded: int = 0  # distinct slides rasterized and uploaded
    composited_frames: int = 0  # frames composited; holds composite once for all their frames
    # Worst luma PSNR (dB) of a few decoded keyframes against the composited frames:
    # what the encode cost in quality (inf where lossless, None if nothing was sampled).
    psnr_db: float | None = None
    ssim: float | None = None  # SSIM of the frame with the lowest PSNR (1 = identical)
    # The soundtrack, when the deck has one: codec, sample_rate, channels, seconds,
    # peak_dbfs, limited_samples (samples the limiter touched), music_loops.
    audio: dict | None = None
    # What the render could not do as asked, per slide: text cut to fit, characters no
    # font has, complex scripts without libraqm.
    warnings: list[str] = field(default_factory=list)
    # Set by the job layer: the file came from the output cache (no render ran), and the
    # quality preset asked for when the job stepped down to fit the machine.
    cache_hit: bool = False
    stepped_down_from: str | None = None
    # The frame stored as the MP4's cover art (seconds into the video), and the PNG of
    # it written beside the video when one was asked for.
    cover_seconds: float | None = None
    thumbnail: str | None = None
    # A file was at the path before and this render replaced it.
    replaced: bool = False
    # A chunk: the frames [start, end) of the whole video it holds (None: the whole video).
    frame_range: list[int] | None = None
    # A joined video: each chunk's report, and the luma PSNR (dB) of each keyframe checked.
    chunks: list[dict] | None = None
    keyframe_psnr: dict[str, float | None] | None = None
    # Where the file came from: the Reel that wrote it, the deck's hash (`deck_sha256`),
    # the video stream's profile and level as written (`written_profile`: "High", "4.1";
    # None where the file does not say) and when it was made, ISO 8601 in UTC.
    reel_version: str = __version__
    deck_sha256: str | None = None
    profile: str | None = None
    level: str | None = None
    created_utc: str = field(default_factory=_utc_now)

    @classmethod
    def from_dict(cls, data: dict) -> RenderReport:
        """The report `to_dict` wrote (derived figures are dropped, a lossless PSNR read
        back as inf: ``"psnr_lossless": true``, or the string "inf" older reports wrote)."""
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if fields.get("psnr_db") == "inf" or data.get("psnr_lossless") is True:
            fields["psnr_db"] = math.inf
        return cls(**fields)

    @property
    def fps_rendered(self) -> float:
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def realtime_factor(self) -> float:
        """Seconds of video made per second of wall time (× realtime)."""
        return self.duration / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def bitrate(self) -> float:
        """Average bit/s of the whole file."""
        return self.bytes * 8 / self.duration if self.duration > 0 else 0.0

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(
            fps_rendered=round(self.fps_rendered, 2),
            realtime_factor=round(self.realtime_factor, 3),
            bitrate=round(self.bitrate),
        )
        data["stage_seconds"] = {k: round(v, 4) for k, v in self.stage_seconds.items()}
        data["wall_seconds"] = round(self.wall_seconds, 4)
        data["peak_rss_mb"] = round(self.peak_rss_mb, 1)
        if self.psnr_db is not None:
            # JSON has no infinity: a lossless encode is null, said by psnr_lossless.
            lossless = self.psnr_db == math.inf
            data["psnr_db"] = None if lossless else round(self.psnr_db, 2)
            data["psnr_lossless"] = lossless
        if self.ssim is not None:
            data["ssim"] = round(self.ssim, 4)
        return data

    def write_json(self, path: str | Path) -> None:
        """Write `to_dict` as JSON to `path`, whole or not at all (see `write_reports`)."""
        write_reports(path, self.to_dict())

    def summary(self) -> str:
        """One line for a terminal."""
        return (
            f"{Path(self.path).name}: {self.width}x{self.height}@{self.fps} {self.frames} frames "
            f"({self.duration:.1f} s) in {self.wall_seconds:.1f} s = {self.realtime_factor:.2f}x realtime, "
            f"{self.fps_rendered:.0f} fps, {self.compositor}+{self.encoder}, "
            f"{self.bytes / 1e6:.1f} MB at {self.bitrate / 1e6:.2f} Mbit/s, "
            + (f"PSNR {self.psnr_db:.1f} dB, " if self.psnr_db is not None else "")
            + (f"SSIM {self.ssim:.3f}, " if self.ssim is not None else "")
            + ("AAC 48 kHz stereo, " if self.audio else "")
            + f"peak RSS {self.peak_rss_mb:.0f} MB"
            + (" (from the cache)" if self.cache_hit else "")
            + (", replaced the file that was there" if self.replaced else "")
            + (f", stepped down from {self.stepped_down_from}" if self.stepped_down_from else "")
            + (f", {len(self.warnings)} warning(s)" if self.warnings else "")
        )


def check_report_path(path: str | Path) -> None:
    """Refuse, before rendering, a report path that cannot be written: a folder, a
    missing folder, a read-only or foreign one, a named FIFO (OutputError). A device
    (``/dev/null``) or this process's own output (``/dev/stdout``, a pipe too) is
    written as it is."""
    from .output import check_target

    path = Path(path)
    if _is_stream(path):
        return
    check_target(path, make_folder=False)


def write_reports(path: str | Path, data: dict) -> None:
    """Write `data` as JSON to `path`: a temporary beside it renamed into place, so a
    failure leaves no half report; OS errors raise as `output.output_error` says."""
    from .output import atomic_output, output_error

    path = Path(path)
    text = json.dumps(data, indent=2) + "\n"
    if _is_stream(path):
        try:
            # Not blocking on a FIFO nobody reads: that is an error, not a hang.
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise output_error(exc, path) from exc
        os.set_blocking(fd, True)
        with open(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        return
    with atomic_output(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def _is_stream(path: Path) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if stat.S_ISCHR(mode):
        return True
    # A pipe this process was given (`reel render … --report /dev/stdout | jq`); a named
    # FIFO elsewhere may have no reader, and is refused like any other odd file.
    inherited = str(path) in ("/dev/stdout", "/dev/stderr") or path.parent in (Path("/dev/fd"), Path("/proc/self/fd"))
    return stat.S_ISFIFO(mode) and inherited
