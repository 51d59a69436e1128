"""What a render did: `RenderReport`, one per output file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["RenderReport"]


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

    @classmethod
    def from_dict(cls, data: dict) -> RenderReport:
        """The report `to_dict` wrote (derived figures are dropped, "inf" read back)."""
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if fields.get("psnr_db") == "inf":
            fields["psnr_db"] = float("inf")
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
            data["psnr_db"] = round(self.psnr_db, 2) if self.psnr_db != float("inf") else "inf"
        if self.ssim is not None:
            data["ssim"] = round(self.ssim, 4)
        return data

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

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
            + (f", stepped down from {self.stepped_down_from}" if self.stepped_down_from else "")
            + (f", {len(self.warnings)} warning(s)" if self.warnings else "")
        )
