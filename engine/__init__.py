"""Reel: slide decks and charts into social videos, on the GPU when there is one.

    import engine
    deck = engine.load_deck("deck.json")
    report = engine.render(deck, "out/", platform="tiktok")
    frame = engine.render_frame(deck, 12.5, platform="youtube")   # H×W×3 uint8

    # Many renders: jobs in a durable queue, run by spawned worker processes.
    settings = engine.load_settings()                              # environment + reel.toml
    with engine.LocalExecutor(settings) as executor:
        job = engine.RenderJob.for_deck("deck.json", [engine.OutputRequest("tiktok")], out_dir="out/")
        record = executor.wait(executor.submit(job).id)

GL, PyAV and PyNvVideoCodec are imported only when a backend needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._host import tune_allocator
from ._lazy import lazy_names
from .errors import (
    AssetError,
    AuthError,
    BackendUnavailableError,
    CodecNotSupportedError,
    EngineError,
    InsufficientResourcesError,
    JobFailedError,
    JobNotFoundError,
    OutputError,
    QueueFullError,
    RenderError,
    RenderTimeoutError,
    ServerError,
    SettingsError,
    SpecError,
)
from .version import __version__

# Before the importing process starts threads of its own: glibc gives each thread that
# allocates before the allocator is tuned an arena that stays (engine._host).
tune_allocator()

if TYPE_CHECKING:
    from .api import render, render_frame
    from .jobs import LocalExecutor, OutputRequest, RenderJob, render_many, run_job
    from .pipeline import RenderProgress
    from .platforms import PLATFORMS, QUALITIES, Output, resolve_output
    from .report import RenderReport
    from .settings import Settings, load_settings
    from .spec import Deck, deck_json_schema, load_deck

# The rest of the API is imported on first use: a render never loads the job queue's
# modules (SQLite, multiprocessing, an HTTP server) or pydantic-settings, ~7 MB of its memory.
__getattr__, __dir__ = lazy_names(
    __name__,
    {
        "render": "api",
        "render_frame": "api",
        "LocalExecutor": "jobs",
        "OutputRequest": "jobs",
        "RenderJob": "jobs",
        "render_many": "jobs",
        "run_job": "jobs",
        "RenderProgress": "pipeline",
        "PLATFORMS": "platforms",
        "QUALITIES": "platforms",
        "Output": "platforms",
        "resolve_output": "platforms",
        "RenderReport": "report",
        "Settings": "settings",
        "load_settings": "settings",
        "Deck": "spec",
        "deck_json_schema": "spec",
        "load_deck": "spec",
    },
)

__all__ = [
    "PLATFORMS",
    "QUALITIES",
    "AssetError",
    "AuthError",
    "BackendUnavailableError",
    "CodecNotSupportedError",
    "Deck",
    "EngineError",
    "InsufficientResourcesError",
    "JobFailedError",
    "JobNotFoundError",
    "LocalExecutor",
    "Output",
    "OutputError",
    "OutputRequest",
    "QueueFullError",
    "RenderError",
    "RenderJob",
    "RenderProgress",
    "RenderReport",
    "RenderTimeoutError",
    "ServerError",
    "Settings",
    "SettingsError",
    "SpecError",
    "__version__",
    "deck_json_schema",
    "load_deck",
    "load_settings",
    "render",
    "render_frame",
    "render_many",
    "resolve_output",
    "run_job",
]
