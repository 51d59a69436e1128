"""How much input one deck may ask Reel to read, parse and lay out: `InputLimits`.

Each limit is a setting (engine/settings.py: ``REEL_`` + the field's name in capitals,
e.g. ``REEL_MAX_DECK_BYTES``) with a default here, and every refusal is one line naming
the setting, in bounded time:

- file sizes (deck, image, shader) are checked with `os.stat` before reading
  (engine/files.py);
- a YAML deck's node graph is measured before it is built into Python objects
  (`check_yaml_nodes`): aliases make a 400-byte "billion laughs" deck stand for 10⁹
  values, which are counted from memoised subtree sizes, never expanded;
- the parsed deck is walked once (`check_deck_values`) for its number of values,
  nesting, each string's length, each slide's characters and the number of slides,
  stopping at the first limit passed;
- an image's pixels are read from its header, an audio file's duration from its
  container's header (engine/files.py, engine/audio/decode.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .errors import SpecError

__all__ = ["MAX_DEPTH", "MAX_IMAGE_PIXELS_CAP", "InputLimits", "check_deck_values", "check_yaml_nodes", "setting_name"]

#: Nesting deeper than this is refused: a deck nests about 8 levels (a chart's series'
#: values), and a structure that refers to itself is infinitely deep.
MAX_DEPTH = 64

#: The most REEL_MAX_IMAGE_PIXELS may be: Pillow's own decompression-bomb threshold
#: (PIL.Image.MAX_IMAGE_PIXELS), past which it warns on stderr while opening a file.
MAX_IMAGE_PIXELS_CAP = 89_478_485


@dataclass(frozen=True)
class InputLimits:
    """The most a deck and its files may hold; `Settings.input_limits` gives the configured ones."""

    max_deck_bytes: int = 2_000_000  # a deck file (JSON or YAML)
    max_deck_values: int = 100_000  # values in a deck (objects, lists, strings, numbers), YAML aliases expanded
    max_string_chars: int = 10_000  # characters in one string (a title, a bullet, a path)
    max_slide_chars: int = 20_000  # characters in all the strings of one slide
    max_slides: int = 500  # slides in a deck
    max_image_pixels: int = 64_000_000  # pixels of one image (width × height), from its header
    max_image_bytes: int = 100_000_000  # size of one image file
    max_audio_seconds: float = 3600.0  # length of one music or voiceover file
    max_shader_bytes: int = 250_000  # size of one user transition (GLSL) file


def setting_name(field: str) -> str:
    """``max_deck_bytes`` → ``REEL_MAX_DECK_BYTES``."""
    if field not in _FIELDS:
        raise KeyError(field)
    return "REEL_" + field.upper()


_FIELDS = frozenset(f.name for f in fields(InputLimits))


def _count(number: float) -> str:
    return f"{number:,}" if isinstance(number, int) else f"{number:g}"


def _over(field: str, limits: InputLimits, what: str) -> str:
    """ "WHAT; at most N (REEL_SETTING)"."""
    return f"{what}; at most {_count(getattr(limits, field))} ({setting_name(field)})"


# ---------------------------------------------------------------------------------
# The parsed deck


def check_deck_values(data: object, limits: InputLimits) -> None:
    """SpecError at the first place `data` (a parsed deck) passes a limit.

    Stops after at most ``max_deck_values + 1`` values, however many the structure
    stands for (shared sub-lists from YAML aliases or Python are counted each time
    they appear, as validation would visit them).
    """
    from .specbase import json_path

    walk = _Walk(limits)
    slides = data.get("slides") if isinstance(data, Mapping) else None
    if isinstance(slides, (list, tuple)) and len(slides) > limits.max_slides:
        what = f"allows at most {limits.max_slides} slides, got {len(slides):,} ({setting_name('max_slides')})"
        raise SpecError(what, "slides")
    try:
        if isinstance(data, Mapping) and isinstance(slides, (list, tuple)):
            for key, value in data.items():
                walk.count(())
                if isinstance(key, str):
                    walk.string(key, (), "a key")
                if key == "slides":
                    walk.count((key,))
                    for index, slide in enumerate(slides):
                        before = walk.chars
                        walk.visit(slide, (key, index))
                        if walk.chars - before > limits.max_slide_chars:
                            what = f"holds {walk.chars - before:,} characters of text"
                            raise SpecError(_over("max_slide_chars", limits, what), json_path(("slides", index)))
                else:
                    walk.visit(value, (key,))
        else:
            walk.visit(data, ())
    except _Refused as refused:
        raise SpecError(refused.message, json_path(refused.loc)) from None


class _Refused(Exception):
    def __init__(self, message: str, loc: tuple[Any, ...]) -> None:
        self.message, self.loc = message, loc


class _Walk:
    """Counts values and characters depth-first, refusing at the first limit passed."""

    def __init__(self, limits: InputLimits) -> None:
        self.limits = limits
        self.values = 0
        self.chars = 0  # characters of the strings seen (not of keys)

    def count(self, loc: tuple[Any, ...]) -> None:
        self.values += 1
        if self.values > self.limits.max_deck_values:
            what = f"the deck holds more than {self.limits.max_deck_values:,} values (each use of a YAML alias counts)"
            raise _Refused(f"{what} ({setting_name('max_deck_values')})", loc[:1])

    def string(self, text: str, loc: tuple[Any, ...], what: str = "a string") -> None:
        if len(text) > self.limits.max_string_chars:
            raise _Refused(_over("max_string_chars", self.limits, f"{what} of {len(text):,} characters"), loc)

    def visit(self, value: object, loc: tuple[Any, ...]) -> None:
        self.count(loc)
        if len(loc) > MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep, or refers to itself", loc[: MAX_DEPTH + 1])
        if isinstance(value, (bytes, bytearray)):  # YAML's !!binary: pydantic would take it as text
            raise _Refused("must be text, not binary data (a YAML !!binary value)", loc)
        if isinstance(value, str):
            self.string(value, loc)
            self.chars += len(value)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                self.count(loc)
                if isinstance(key, str):
                    self.string(key, loc, "a key")
                self.visit(item, loc + (key,) if isinstance(key, (str, int)) else loc)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                self.visit(item, loc + (index,))


# ---------------------------------------------------------------------------------
# A YAML deck, before it becomes Python objects


def check_yaml_nodes(root: object, limits: InputLimits) -> tuple[object, str] | None:
    """(the node, a message) if the composed YAML graph at `root` stands for too many values.

    Aliases point at a node already composed, so the graph is small while what it
    stands for may not be: each node's expanded size is computed once (memoised) and
    summed, so a billion-laughs deck is measured in microseconds. A node that contains
    itself (``&a [*a]``) is reported too. None if the deck is within the limits.
    """
    import yaml

    limit = limits.max_deck_values
    sizes: dict[int, int] = {}
    active: set[int] = set()
    # Iterative post-order walk: (node, children pushed yet?).
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if not expanded:
            if key in sizes:
                continue
            if key in active:
                return node, "refers to itself (a YAML alias inside its own anchor)"
            if len(active) > MAX_DEPTH:
                return node, f"nested more than {MAX_DEPTH} levels deep"
            active.add(key)
            stack.append((node, True))
            for child in _children(node, yaml):
                if id(child) in active:
                    return child, "refers to itself (a YAML alias inside its own anchor)"
                if id(child) not in sizes:
                    stack.append((child, False))
            continue
        active.discard(key)
        total = 1 + sum(sizes[id(child)] for child in _children(node, yaml))
        sizes[key] = min(total, limit + 1)  # capped: the sums stay small integers
        if total > limit:
            what = f"the deck holds more than {limit:,} values once its YAML aliases are expanded"
            return node, f"{what} ({setting_name('max_deck_values')})"
    return None


def _children(node: Any, yaml: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
