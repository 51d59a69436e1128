"""What a render job is: plain data that survives JSON, SQLite and a process boundary.

A `RenderJob` names a deck (inline data, or a file whose assets sit beside it), the
outputs to make from it, and the options that change how. It carries no open files,
no Python objects and no engine state, so any process that can read the deck's files
can run it: a worker on this machine, or one on another machine sharing REEL_HOME.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import SpecError

__all__ = ["JobState", "OutputRequest", "RenderJob", "new_job_id"]


class JobState:
    """queued → running → done | failed | cancelled (running → queued again on a retry)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ALL = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
    FINAL = (DONE, FAILED, CANCELLED)


def new_job_id() -> str:
    """A short random id; sortable enough to read, unique enough for one REEL_HOME."""
    return secrets.token_hex(6)


@dataclass(frozen=True)
class OutputRequest:
    """One video to make: a platform preset (or WxH[@fps]) × a quality preset.

    `path` is the file to write; None puts ``<deck name>-<label>.mp4`` in the job's
    `out_dir`. `skip_holds` writes held frames as skip frames (x264; see
    `engine.encode.skip`); False encodes every frame.
    """

    platform: str = "youtube"
    quality: str = "standard"
    codec: str | None = None  # h264 | hevc | av1; None = the platform's own
    encoder: str = "auto"
    path: str | None = None
    skip_holds: bool = True
    format: str = "mp4"  # mp4 | webm | gif

    def __post_init__(self) -> None:
        from ..encode.backends import container_for

        container_for(self.format)  # an unknown format fails where the request is made, with the names

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutputRequest:
        unknown = set(data) - {"platform", "quality", "codec", "encoder", "path", "skip_holds", "format"}
        if unknown:
            raise SpecError(f"unknown output field(s): {', '.join(sorted(unknown))}", "outputs")
        return cls(**data)


@dataclass(frozen=True)
class RenderJob:
    """A deck and the outputs to make from it.

    Exactly one of `deck` (the deck's data, as from JSON) and `deck_file` (a path) is
    set. Relative asset paths resolve against `base_dir`, else the deck file's folder.
    `step_down` lets a job that does not fit the machine drop one quality preset at a
    time instead of failing (the report says so). `frames` (start, end) makes the job a
    *chunk*: only those frames of its one output, written to that output's `path`, to be
    joined with the other chunks (`engine.jobs.chunked`).
    """

    outputs: tuple[OutputRequest, ...]
    deck: dict | None = None
    deck_file: str | None = None
    base_dir: str | None = None
    out_dir: str = "."
    compositor: str = "auto"
    step_down: bool = False
    thumbnail: bool = False  # a PNG of the cover frame beside each video
    frames: tuple[int, int] | None = None
    id: str = field(default_factory=new_job_id)

    def __post_init__(self) -> None:
        if (self.deck is None) == (self.deck_file is None):
            raise SpecError("a job needs exactly one of deck (inline data) or deck_file (a path)", "deck")
        if not self.outputs:
            raise SpecError("a job needs at least one output", "outputs")
        if self.compositor not in ("auto", "gl", "cpu"):
            raise SpecError(f"unknown compositor {self.compositor!r}; use auto, gl or cpu", "compositor")
        # Tuples, so the job is hashable and equal to its JSON round trip.
        object.__setattr__(self, "outputs", tuple(self.outputs))
        if self.frames is not None:
            start, end = (int(n) for n in self.frames)
            object.__setattr__(self, "frames", (start, end))
            if len(self.outputs) != 1 or self.outputs[0].path is None:
                raise SpecError("a chunk job (frames) has exactly one output, with its path", "frames")
            if self.step_down or self.thumbnail:
                raise SpecError("a chunk job (frames) cannot step down or write a thumbnail", "frames")

    @classmethod
    def for_deck(
        cls,
        deck: str | Path | Mapping[str, Any],
        outputs: list[OutputRequest] | tuple[OutputRequest, ...],
        *,
        out_dir: str | Path = ".",
        base_dir: str | Path | None = None,
        **options: Any,
    ) -> RenderJob:
        """A job for a deck file (made absolute, so any working folder runs it) or deck data."""
        if isinstance(deck, (str, Path)):
            return cls(
                tuple(outputs), deck_file=str(Path(deck).absolute()), out_dir=str(Path(out_dir).absolute()), **options
            )
        base = str(Path(base_dir).absolute()) if base_dir is not None else str(Path.cwd())
        data = json.loads(json.dumps(deck))  # a deep copy that must be JSON: fail here, not in a worker
        return cls(tuple(outputs), deck=data, base_dir=base, out_dir=str(Path(out_dir).absolute()), **options)

    def with_new_id(self) -> RenderJob:
        return replace(self, id=new_job_id())

    def to_dict(self) -> dict:
        data = asdict(self)
        data["outputs"] = [asdict(o) for o in self.outputs]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RenderJob:
        data = dict(data)
        data["outputs"] = tuple(OutputRequest.from_dict(o) for o in data.get("outputs", ()))
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise SpecError(f"unknown job field(s): {', '.join(sorted(unknown))}", "job")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> RenderJob:
        return cls.from_dict(json.loads(text))
