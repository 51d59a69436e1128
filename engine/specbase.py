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
- The field types the deck's models share: `Text`, `Seconds`, `TransitionSeconds`,
  `EasingName`.
- `spec_error(exc, data, kinds)` turns a pydantic ``ValidationError`` into the one-line
  `SpecError` users see (its ``errors`` holding every one); the caller names the slide
  kinds, which this module does not know. `spec_errors` lists every error as (JSON
  path, message), for an API.
- With ``context["confine_to"]`` (a folder: a deck uploaded to `reel serve`), an
  `AssetPath` must be relative, without ``..``, and stay inside that folder.

It imports nothing of the engine but `colour`, `easing` and `errors`, so any model
module can use it without an import cycle.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, NoReturn

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from .colour import parse_colour
from .easing import easing_names, parse_easing
from .errors import SpecError, excerpt

__all__ = [
    "MAX_SECONDS",
    "AssetPath",
    "Colour",
    "EasingName",
    "Seconds",
    "SpecModel",
    "Text",
    "TransitionSeconds",
    "confined_problem",
    "context_base_dir",
    "fail",
    "json_keys",
    "json_path",
    "normalise_colour",
    "show",
    "spec_error",
    "spec_errors",
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


_PLAIN_KEY = re.compile(r"[A-Za-z_$][\w$-]*")  # (fullmatch: "$" would let a key end in a newline)


def json_path(loc: tuple[str | int, ...]) -> str:
    """``("slides", 3, "duration")`` → ``slides[3].duration``; odd keys quoted and cut short."""
    text = ""
    for item in loc:
        if isinstance(item, int):
            text += f"[{item}]"
        elif len(str(item)) <= 40 and _PLAIN_KEY.fullmatch(str(item)):
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
        json_schema_input_type=str
        | Annotated[list[Annotated[int, Field(ge=0, le=255)]], Field(min_length=3, max_length=3)],
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


def confined_problem(path: Path | str, folder: Path | str) -> str | None:
    """Why `path` (absolute) is not a file inside `folder`, following symlinks; None if it is.

    Only `folder` and what lies inside it is looked at: a path outside it is refused
    from its text alone, before any file system call.
    """
    written, root = os.path.abspath(path), os.path.abspath(folder)
    if os.path.commonpath([root, written]) != root:
        return "leaves the upload folder"
    real, root = os.path.realpath(written), os.path.realpath(root)
    if os.path.commonpath([root, real]) != root:
        return "is a link that leads out of the upload folder"
    return None


def _check_confined(path: Path, folder: object) -> None:
    # Where the deck came from over the network (`reel serve`), every file it names must
    # be one the client sent: relative, no "..", inside the upload folder.
    text = str(path)
    if path.is_absolute() or text.startswith("~"):
        fail(f"{excerpt(text)}: must be a path relative to the deck, inside its upload; absolute paths are refused")
    if ".." in path.parts:
        fail(f"{excerpt(text)}: must stay inside the deck's upload; '..' is refused")
    problem = confined_problem(Path(str(folder)) / path, str(folder))
    if problem is not None:
        fail(f"{excerpt(text)}: {problem}")


def _resolve_path(path: Path, info: ValidationInfo) -> Path:
    context = info.context
    if isinstance(context, Mapping) and context.get("confine_to") is not None:
        _check_confined(path, context["confine_to"])
    try:
        path = path.expanduser()
    except RuntimeError:  # no home folder to expand "~" with: leave the path as written
        pass
    # abspath is pure string work: no filesystem access, no symlink surprises.
    return Path(os.path.abspath(context_base_dir(info.context) / path))


# A file the deck names, made absolute against the deck's folder during validation.
AssetPath = Annotated[Path, BeforeValidator(_check_path_text), AfterValidator(_resolve_path)]


# ---------------------------------------------------------------------------------
# Field types the deck's models share


def _not_blank(text: str) -> str:
    if not text.strip():
        fail("must not be empty (or only spaces)")
    return text


Text = Annotated[str, Field(min_length=1), AfterValidator(_not_blank)]

# A slide (or transition) longer than an hour is a typo, and unbounded durations would
# let a deck ask the timeline for billions of frames.
MAX_SECONDS = 3600.0

# Numbers are strict: `true` or "5" where seconds are expected is a mistake, not a 1
# or a 5. Ints are still accepted for floats. NaN and ±inf are refused model-wide.
Seconds = Annotated[float, Field(strict=True, gt=0, le=MAX_SECONDS)]
TransitionSeconds = Annotated[float, Field(strict=True, ge=0, le=MAX_SECONDS)]


def _normalise_easing(value: object) -> str:
    try:
        return str(parse_easing(value))
    except SpecError as exc:
        fail(exc.reason)


# A name from engine.easing, or four cubic-bezier numbers; stored as its canonical
# text ("ease-in-out", "cubic-bezier(0.25, 0.1, 0.25, 1)").
EasingName = Annotated[
    str,
    BeforeValidator(
        _normalise_easing,
        json_schema_input_type=Annotated[str, Field(examples=easing_names())]
        | Annotated[list[float], Field(min_length=4, max_length=4)],
    ),
]


# ---------------------------------------------------------------------------------
# pydantic errors → SpecError


def spec_error(exc: ValidationError, data: object, kinds: Collection[str] = ()) -> SpecError:
    """The first error of `exc`, as ``path: what is wrong``, counting the rest.

    The `SpecError`'s ``errors`` lists every one (``{"path", "message"}``), so that
    `reel` can print them all, each on its own line. `data` is the input that was
    validated; `kinds` the tags of the discriminated union of slides (their ``kind``),
    which pydantic puts into its error paths and which are taken out again here.
    """
    errors = spec_errors(exc, data, kinds)
    path, message = errors[0]
    if len(errors) > 1:
        message += f" (+{len(errors) - 1} more)"
    return SpecError(message, path, [{"path": p, "message": m} for p, m in errors])


def spec_errors(exc: ValidationError, data: object, kinds: Collection[str] = ()) -> list[tuple[str, str]]:
    """Every error of `exc` as (JSON path, what is wrong), in pydantic's order; see `spec_error`."""
    found = []
    for error in exc.errors(include_url=False):
        loc = _without_union_tags(error["loc"], data, kinds)
        message, subpath = _describe(error, loc, kinds)
        if loc[-2:-1] and loc[-1] == "[key]":
            loc = loc[:-2]  # pydantic's ("params", 1, "[key]"): blame the mapping, not the key
        found.append((json_path(loc + subpath), message))
    return found


def _without_union_tags(loc: tuple[str | int, ...], data: object, kinds: Collection[str]) -> tuple[str | int, ...]:
    """`loc` minus the tags pydantic inserts for discriminated unions.

    pydantic reports an error inside ``slides[1]``, a bullets slide, at
    ``("slides", 1, "bullets", "bullets", 2)``: the first "bullets" is the tag. We walk
    the input alongside the loc: on arriving at a slide (a mapping whose "kind" is a
    slide kind), a loc item equal to that kind is the tag. Only slides carry a "kind";
    any other mapping with that key fails its own unknown-key check first.
    """
    kept: list[str | int] = []
    node: object = data
    just_arrived = True
    for item in loc:
        if just_arrived and isinstance(node, Mapping) and item in kinds and node.get("kind") == item:
            just_arrived = False  # the tag appears once, straight after arriving
            continue
        kept.append(item)
        node = _child(node, item)
        just_arrived = True
    return tuple(kept)


def _child(node: object, item: str | int) -> object:
    if isinstance(node, Mapping) and isinstance(item, str):
        return node.get(item)
    if isinstance(node, (list, tuple)) and isinstance(item, int) and 0 <= item < len(node):
        return node[item]
    return None  # off the raw input (a shorthand was expanded): nothing more to strip


_TYPE_NAMES = {
    "string_type": "a string",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "path_type": "a file path (a string)",
}


def _type_word(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _describe(
    error: ErrorDetails, loc: tuple[str | int, ...], kinds: Collection[str]
) -> tuple[str, tuple[str | int, ...]]:
    """A message for one pydantic error, and any path below `loc` it belongs to."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    got = show(value)

    if kind == "reel":
        return ctx["message"], tuple(ctx["subpath"])
    if not loc and kind in ("model_type", "model_attributes_type", "dict_type"):
        # Only the type: the "deck" may be any file's text (/etc/passwd), not to be quoted.
        return f"a deck must be an object with a 'slides' list, got {_type_word(value)}", ()
    if loc and loc[-1] == "[key]":  # a non-string key in a free-form mapping (params)
        return f"keys must be strings, got {got}", ()
    if kind in _TYPE_NAMES:
        return f"must be {_TYPE_NAMES[kind]}, got {got}", ()
    if kind == "missing":
        return "required, but missing", ()
    if kind == "extra_forbidden":  # normally caught earlier, with a suggestion
        return "unknown key", ()
    if kind == "finite_number":
        return f"must be a finite number, got {got}", ()
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values()), "?")
        if isinstance(bound, float):
            bound = f"{bound:g}"
        return f"must be {op} {bound}, got {got}", ()
    if kind == "string_too_short":
        return "must not be empty", ()
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}", ()
    if kind == "too_long":
        return f"allows at most {ctx.get('max_length')} items", ()
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}, got {got}", ()
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _describe_bad_tag(kind, ctx, value, kinds)
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"]), ()
    if kind == "recursion_loop":
        return "refers to itself", ()
    # Anything else: pydantic's own words, lower-cased to read after "path: ".
    message = str(error.get("msg", "is invalid"))
    return message[:1].lower() + message[1:], ()


def _describe_bad_tag(
    kind: str, ctx: Mapping[str, Any], value: object, kinds: Collection[str]
) -> tuple[str, tuple[str | int, ...]]:
    """An unknown or missing ``kind``, reported at the ``kind`` key itself."""
    key = str(ctx.get("discriminator", "'kind'")).strip("'")
    expected = [tag.strip().strip("'") for tag in str(ctx.get("expected_tags", "")).split(",") if tag.strip()]
    expected = expected or list(kinds)
    choices = ", ".join(expected)
    if kind == "union_tag_not_found":
        return f"required, one of {choices}", (key,)
    tag = value.get(key) if isinstance(value, Mapping) else ctx.get("tag")
    close = difflib.get_close_matches(tag, expected, n=1) if isinstance(tag, str) else []
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown {key} {show(tag)}; {hint}valid kinds are {choices}", (key,)
