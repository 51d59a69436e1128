"""Argument types and option groups that `reel`'s commands share.

`cli` (the direct commands) and `service_cli` (the queue's commands) both build their
parsers from these; keeping them here lets `service_cli` use them without importing
`cli`, which imports `service_cli`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["STDIN", "Completions", "deck_argument", "output_options", "positive_int", "positive_seconds"]

#: The deck argument that means "read the deck from standard input".
STDIN = "-"


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (-j 0 is a mistake, not "default")."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text[:40]!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds: {text[:40]!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {text[:40]}")
    return value


class Completions:
    """An argparse ``choices`` that accepts any value but lists the names a shell should
    offer (`reel completion`, through shtab): the preset platforms, where ``WxH@fps`` is
    valid too, or the transitions. The names are looked up only when listed, and the
    value is checked where it is used, with a "did you mean"."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __contains__(self, value: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        if self.kind in ("platforms", "platforms or all"):
            from .platforms import PLATFORMS

            return iter([*PLATFORMS, "all"] if self.kind == "platforms or all" else PLATFORMS)
        from .transitions import BUILTIN

        return iter(BUILTIN)


def output_options(parser: argparse.ArgumentParser, many: bool) -> None:
    """-p/--platform (once, or repeated with `many`), --quality and --compositor."""
    if many:
        parser.add_argument(
            "-p",
            "--platform",
            action="append",
            dest="platforms",
            metavar="NAME",
            choices=Completions("platforms or all"),
            help="preset name or WxH[@fps]; repeat for several, or 'all' (default: youtube)",
        )
    else:
        parser.add_argument(
            "-p",
            "--platform",
            default="youtube",
            metavar="NAME",
            choices=Completions("platforms"),
            help="preset name or WxH[@fps] (default: youtube)",
        )
    parser.add_argument(
        "--quality", default=None, help="draft | standard | high | maximum (default: QUALITY_PRESET, else standard)"
    )
    parser.add_argument(
        "--compositor",
        default="auto",
        choices=["auto", "gl", "cpu"],
        help="auto (default): GL on a GPU, else numpy; gl forces OpenGL even on llvmpipe",
    )


@contextlib.contextmanager
def deck_argument(deck: str) -> Iterator[tuple[str, Path | None]]:
    """The deck file to load for a command's DECK argument, and the folder its paths
    resolve against (None: the file's own).

    ``-`` reads the deck (JSON or YAML) from standard input into ``stdin.yaml`` in a
    temporary folder that lasts as long as the block (workers may read it again); the
    deck's files resolve against the current folder, and its outputs are named
    ``stdin-…``. The size limit is the deck file's (REEL_MAX_DECK_BYTES).
    """
    if deck != STDIN:
        yield deck, None
        return
    from .settings import load_settings

    limit = load_settings().input_limits.max_deck_bytes
    with tempfile.TemporaryDirectory(prefix="reel-stdin-") as folder:
        path = Path(folder) / "stdin.yaml"
        # One byte past the limit is enough for the deck reader to refuse it by size.
        path.write_bytes(sys.stdin.buffer.read(limit + 1))
        yield str(path), Path.cwd()
