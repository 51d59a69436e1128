"""What the API says about a job: the JSON of docs/server.md, built from a `JobRecord`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..jobs import JobRecord

__all__ = ["REPORT_NAME", "Output", "job_outputs", "job_view", "progress_view", "report_bytes"]

REPORT_NAME = "report.json"
_TYPES = {"video": "video/mp4", "thumbnail": "image/png", "report": "application/json"}


@dataclass(frozen=True)
class Output:
    name: str
    kind: str  # video | thumbnail | report
    path: Path | None  # None for the report, which is made from the job's record

    @property
    def media_type(self) -> str:
        return _TYPES[self.kind]


def job_outputs(record: JobRecord) -> list[Output]:
    """The files a finished job made that exist, inside its output folder, and its report."""
    folder = Path(record.job.out_dir).resolve()
    found = []
    for report in record.reports:
        for key, kind in (("path", "video"), ("thumbnail", "thumbnail")):
            if not report.get(key):
                continue
            path = Path(report[key]).resolve()
            if path.parent == folder and path.is_file():
                found.append(Output(path.name, kind, path))
    if record.reports:
        found.append(Output(REPORT_NAME, "report", None))
    return found


def report_bytes(record: JobRecord) -> bytes:
    return json.dumps({"id": record.id, "reports": [_public_report(r) for r in record.reports]}, indent=2).encode()


def progress_view(record: JobRecord) -> dict:
    """frame, frames, fraction (of the whole job, every output), fps, eta in seconds."""
    p = record.progress
    if not p:
        done = record.state == "done"
        return {"frame": 0, "frames": 0, "fraction": 1.0 if done else 0.0, "fps": None, "eta": None}
    frame, frames, elapsed = p["frames_done"], p["frames_total"], p["elapsed"]
    share = frame / frames if frames else 1.0
    fraction = (p["index"] + share) / max(1, p["outputs"])
    fps = frame / elapsed if elapsed > 0 and frame else None
    eta = (frames - frame) / fps if fps else None
    return {
        "frame": frame,
        "frames": frames,
        "fraction": round(fraction, 4),
        "fps": None if fps is None else round(fps, 2),
        "eta": None if eta is None else round(eta, 2),
        "output": p.get("output"),
    }


def job_view(record: JobRecord) -> dict:
    url = f"/v1/jobs/{record.id}"
    outputs = []
    for output in job_outputs(record):
        size = len(report_bytes(record)) if output.path is None else output.path.stat().st_size
        outputs.append({"name": output.name, "url": f"{url}/outputs/{output.name}", "bytes": size, "kind": output.kind})
    return {
        "id": record.id,
        "state": record.state,
        "created": record.submitted,
        "started": record.started,
        "finished": record.finished,
        "attempts": record.attempts,
        "platforms": [o.platform for o in record.job.outputs],
        "quality": record.job.outputs[0].quality,
        "progress": progress_view(record),
        "error": None if record.error_type is None else {"type": record.error_type, "message": record.error_message},
        "reports": [_public_report(r) for r in record.reports],
        "outputs": outputs,
        "urls": {"self": url, "events": f"{url}/events"},
    }


def _public_report(report: dict) -> dict:
    """A report without this machine's paths: file names only."""
    shown = dict(report)
    for key in ("path", "thumbnail"):
        if shown.get(key):
            shown[key] = Path(shown[key]).name
    return shown
