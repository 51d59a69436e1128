"""Backend registries: a short name → a lazily imported ``"module:attr"``, in preference order.

One shape for every family of interchangeable backends, modelled on imageio's plugin
registry (a short name, a lazy ``"module:Class"``, a preference table anyone can read):

    compositors   gl → cpu                                  (engine/composite/backends.py)
    encoders      nvenc → h264_nvenc → … → libx264, per codec (engine/encode/backends.py)
    executors     local → ray                               (the jobs' Executor protocol)

A `Registry` maps each name to an `Entry` (a subclass adds what the family must know
before importing anything, such as the codec an encoder writes). Nothing is imported
until `load` asks for a backend, so ``import engine`` needs neither OpenGL, FFmpeg nor a
GPU library; a backend that cannot be imported is a `BackendUnavailableError` with the
import's failure chained. An executor family is ``Registry[Entry, type[Executor]]`` with
``{"local": Entry("engine.jobs.executor:LocalExecutor"), "ray": Entry("…:RayExecutor")}``:
the same table, the same lazy load, the same "auto" bookkeeping.

"auto" walks the table in order and passes over what cannot start; `Skips` records
why for each one, so a report can say it. A backend named explicitly that cannot start
raises instead: never a silent fallback.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from .errors import BackendUnavailableError

__all__ = ["Entry", "Registry", "Skips"]

E = TypeVar("E", bound="Entry")
T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """Where one backend lives: ``"module:attr"``, imported on first use."""

    ref: str


class Registry(Mapping[str, E], Generic[E, T]):
    """A family's backends: name → entry, in the order "auto" prefers them.

    `table` is the preference table itself (public, so that a test can swap it); `load`
    imports a backend and returns the attribute its entry names, typed `T` (a class, or
    whatever the family's backends expose).
    """

    def __init__(self, family: str, table: Mapping[str, E]) -> None:
        self.family = family  # "compositor", "encoder" …, as messages name it
        self.table: dict[str, E] = dict(table)

    def __getitem__(self, name: str) -> E:
        return self.table[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def load(self, name: str) -> T:
        """The backend `name` names, imported now; BackendUnavailableError if it cannot be."""
        module, _, attr = self.table[name].ref.partition(":")
        try:
            loaded: T = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise BackendUnavailableError(f"{self.family} {name} cannot be loaded: {exc}") from exc
        return loaded


class Skips:
    """Why "auto" passed over each candidate, in order.

    Each reason is logged (info), kept in `reasons`, and added to the caller's
    `fallbacks` list when one was given (the render report shows them).
    """

    def __init__(self, fallbacks: list[str] | None = None, log: logging.Logger | None = None) -> None:
        self.reasons: list[str] = []
        self._fallbacks = fallbacks
        self._log = log or logging.getLogger(__name__)

    def add(self, reason: str) -> None:
        self.reasons.append(reason)
        self._log.info(reason)
        if self._fallbacks is not None:
            self._fallbacks.append(reason)

    def __str__(self) -> str:
        return "; ".join(self.reasons)
