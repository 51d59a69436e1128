"""What every deck model shares: one-line errors with a path, strict keys, asset paths.

The deck (engine/spec.py), a chart (engine/charts/model.py) and the soundtrack
(engine/audio/models.py) are validated by pydantic models built on `SpecModel`:

- `fail(message, *subpath)` raises from inside validation a pydantic error of type
  ``"reel"`` carrying the message verbatim and an optional path below the value being
  validated; `engine.spec.load_deck` turns it, like every pydantic error, into a
  `SpecError` whose message starts with the JSON path.
- Unknown keys are refused with a "did you mean", NaN and ±inf everywhere.
- `AssetPath` is a file the deck names, made absolute against the deck's folder
  (``context["base_dir"]``, else the working folder) during validation.

It imports nothing of the engine but `colour` and `errors`, so any model module can
use it without an import cycle.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, NoReturn, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from .colour import parse_colour
from .errors import SpecError, excerpt

__all__ = [
    "AssetPath",
    "Colour",
    "SpecModel",
    "context_base_dir",
    "fail",
    "json_keys",
    "json_path",
    "normalise_colour",
    "show",
]


def fail(message: str, *subpath: str | int) -> NoReturn:
    """Refuse the value being validated: `message` verbatim, `subpath` below it."""
    # The template is only "{message}" so braces in user text are never interpreted.
    raise PydanticCustomError("reel", "{message}", {"message": message, "subpath": subpath})


def show(value: object) -> str:
    """A short, one-line rendering of a user value for messages, JSON-flavoured."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) >= 10**30:
        return "a very large number"  # repr of a huge int is slow, and refused past 4300 digits
    if isinstance(value, (int, float, str)):
        return excerpt(value)  # a 1 MB string is sliced before it is quoted
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


_PLAIN_KEY = re.compile(r"^[A-Za-z_$][\w$-]*$")


def json_path(loc: tuple[str | int, ...]) -> str:
    """``("slides", 3, "duration")`` → ``slides[3].duration``; odd keys quoted and cut short."""
    text = ""
    for item in loc:
        if isinstance(item, int):
            text += f"[{item}]"
        elif len(str(item)) <= 40 and _PLAIN_KEY.match(str(item)):
            text += f".{item}" if text else str(item)
        else:
            key = str(item)
            text += f"[{json.dumps(key if len(key) <= 40 else key[:37] + '...')}]"
    return text


def json_keys(model: type[BaseModel]) -> list[str]:
    """The keys a JSON deck uses for `model`, in declaration order."""
    return [field.alias or name for name, field in model.model_fields.items()]


def _accepted_keys(model: type[BaseModel]) -> set[str]:
    keys = set(json_keys(model))
    if model.model_config.get("populate_by_name"):
        keys |= set(model.model_fields)
    return keys


class SpecModel(BaseModel):
    """Shared configuration, and unknown keys reported with a suggestion."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    # Keys tolerated and dropped on input (a deck's "$schema").
    _ignored_keys: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        # extra="forbid" would catch these too, but only as "extra inputs are not
        # permitted"; here we know the model, so we can suggest what was meant.
        if not isinstance(data, Mapping):
            return data
        accepted = _accepted_keys(cls)
        for key in data:
            if not isinstance(key, str):
                fail(f"keys must be strings, got {show(key)}")
            if key not in accepted and key not in cls._ignored_keys:
                fail(cls._unknown_key_message(key), key)
        ignored = cls._ignored_keys & data.keys()
        for key in ignored:  # tolerated, but still a string like the schema says ("$schema")
            if not isinstance(data[key], str):
                fail(f"must be a string, got {show(data[key])}", key)
        if ignored:
            return {key: value for key, value in data.items() if key not in cls._ignored_keys}
        return data

    @classmethod
    def _unknown_key_message(cls, key: str) -> str:
        keys = json_keys(cls)
        close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6) if len(key) <= 100 else []
        if close:
            return f"unknown key; did you mean {close[0]!r}?"
        return f"unknown key; expected one of {', '.join(keys)}"


def normalise_colour(value: object) -> str:
    """`value` as "#rrggbb", or a "reel" error saying why it is not a colour."""
    try:
        r, g, b = parse_colour(value)
    except SpecError as exc:
        fail(exc.reason)
    return f"#{r:02x}{g:02x}{b:02x}"


# Accepts what parse_colour accepts; stored as "#rrggbb" so the rest of the engine
# (and a content hash of the deck) sees one spelling per colour.
Colour = Annotated[
    str,
    BeforeValidator(
        normalise_colour,
        json_schema_input_type=Union[
            str, Annotated[list[Annotated[int, Field(ge=0, le=255)]], Field(min_length=3, max_length=3)]
        ],
    ),
]


def _check_path_text(value: object) -> object:
    # Path("") is ".", which would later read as "a folder, not a file": say it here.
    if isinstance(value, str):
        if not value.strip():
            fail("must not be empty")
        if "\0" in value:
            fail("a file path cannot contain a NUL character")
    return value


def context_base_dir(context: object) -> Path:
    """The folder a deck's relative paths resolve against."""
    if isinstance(context, Mapping) and context.get("base_dir") is not None:
        return Path(context["base_dir"])
    return Path.cwd()


def _resolve_path(path: Path, info: ValidationInfo) -> Path:
    try:
        path = path.expanduser()
    except RuntimeError:  # no home folder to expand "~" with: leave the path as written
        pass
    # abspath is pure string work: no filesystem access, no symlink surprises.
    return Path(os.path.abspath(context_base_dir(info.context) / path))


# A file the deck names, made absolute against the deck's folder during validation.
AssetPath = Annotated[Path, BeforeValidator(_check_path_text), AfterValidator(_resolve_path)]
