"""Deck files and the files a deck names: reading them within the limits, checking them.

`read_deck_file` reads a ``.json`` deck, or anything else as YAML, into plain data for
`engine.spec.load_deck` to validate; `check_files` then holds every file the deck
names (`engine.spec.Deck.asset_files`) to its limits from headers alone. `limits_of`
is how validators find the limits `load_deck` validates with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from .errors import AssetError, SpecError
from .files import image_size, read_regular, regular_file, short_path
from .limits import InputLimits, check_yaml_nodes, setting_name

__all__ = ["check_files", "limits_of", "read_deck_file"]


def limits_of(context: object) -> InputLimits:
    """The limits `load_deck` validates with (its context), else the defaults."""
    if isinstance(context, Mapping) and isinstance(context.get("limits"), InputLimits):
        return context["limits"]
    return InputLimits()


def read_deck_file(deck_file: Path, limits: InputLimits) -> object:
    """The data of `deck_file` (JSON by its suffix, else YAML); SpecError if it is not text of either."""
    raw = read_regular(deck_file, "deck file", limits.max_deck_bytes, setting=setting_name("max_deck_bytes"))
    try:
        text = raw.decode("utf-8-sig")  # tolerate a BOM from Windows editors
    except UnicodeDecodeError as exc:
        raise SpecError(f"{deck_file}: not UTF-8 text (bad byte at offset {exc.start})") from exc

    if deck_file.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"{deck_file}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
        except (ValueError, RecursionError) as exc:  # e.g. an int literal of 5000 digits
            raise SpecError(f"{deck_file}: invalid JSON: {_cut(str(exc))}") from exc
    return _read_yaml(deck_file, text, limits)


def _read_yaml(deck_file: Path, text: str, limits: InputLimits) -> object:
    """YAML is (nearly) a superset of JSON, so it is the reader for every other suffix.

    The document is composed into a node graph first, in which an alias is a second
    reference to one node: `check_yaml_nodes` measures what it stands for before any
    of it is built (a "billion laughs" deck is refused in microseconds).
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:  # an empty document
            return None
        refused = check_yaml_nodes(node, limits)
        if refused is None:
            return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{deck_file}:{mark.line + 1}:{mark.column + 1}" if mark else str(deck_file)
        raise SpecError(f"{where}: invalid YAML: {_cut(str(exc.problem or exc.context))}") from exc
    except Exception as exc:
        # PyYAML's constructors fail on odd tagged values with whatever builtin error
        # they hit (`2024-13-40` → ValueError, `!!timestamp x` → AttributeError); all
        # of them mean the text is not a deck. Their words may quote the deck: cut short.
        raise SpecError(f"{deck_file}: invalid YAML: {_cut(str(exc))}") from exc
    finally:
        loader.dispose()
    at, message = refused
    mark = getattr(at, "start_mark", None)
    where = f"{deck_file}:{mark.line + 1}:{mark.column + 1}" if mark else str(deck_file)
    raise SpecError(f"{where}: {message}")


def _cut(words: str, limit: int = 200) -> str:
    """A parser's message on one line, at most `limit` characters (it may quote the deck)."""
    text = " ".join(words[: limit * 2].split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# What each kind of file the deck names may hold, by the `what` of Deck.asset_files.
_IMAGES = ("image", "background image", "chart image", "logo")
_SOUNDS = ("music", "voiceover")


def check_files(files: Iterable[tuple[str, Path, str]], limits: InputLimits) -> None:
    """AssetError for the first of the deck's `files` (JSON path, file, what it is) that is
    not there, not a regular file, or past its limit: images by bytes and pixels, music
    and voiceovers by seconds (both from headers), transition files by bytes; caption
    and word-timing files are read whole (a malformed one is a SpecError naming its
    line); a video clip's first frame is decoded. Nothing else is decoded."""
    for where, path, what in files:
        if what in _IMAGES:
            regular_file(path, what, limits.max_image_bytes, setting=setting_name("max_image_bytes"), where=where)
            image_size(path, what, limits.max_image_pixels, setting=setting_name("max_image_pixels"), where=where)
        elif what == "transition file":
            regular_file(path, what, limits.max_shader_bytes, setting=setting_name("max_shader_bytes"), where=where)
        elif what in _SOUNDS:
            from .audio.decode import check_audio_length

            check_audio_length(path, where, limits.max_audio_seconds)
        elif what == "video clip":  # opened, and its first frame decoded
            from .clips import probe_clip

            probe_clip(path, where)
        elif what == "font":
            _check_font(regular_file(path, what, where=where), where)
        elif what in ("captions", "word timings"):
            from .captions import read_caption_file, read_words

            regular_file(path, what, where=where)
            if what == "captions":  # a malformed file fails now, with its line
                read_caption_file(path)
            else:
                read_words(path)
        else:
            regular_file(path, what, where=where)


#: The first four bytes of the font files Reel reads: TrueType, OpenType (CFF), old
#: Apple TrueType, and a collection of either.
_FONT_SIGNATURES = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"ttcf")


def _check_font(path: Path, where: str) -> None:
    # A fallback font is opened only when a character needs it, so a broken one would
    # otherwise pass unnoticed until some deck's text reached it.
    with open(path, "rb") as file:
        head = file.read(4)
    if head not in _FONT_SIGNATURES:
        raise AssetError(f"{where}: not a TrueType or OpenType font file: {short_path(path)}", path)
