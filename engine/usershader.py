"""A user's transition file in the open gl-transitions convention: its parameters.

Such a file defines ``vec4 transition(vec2 uv)`` over ``getFromColor``/``getToColor``,
``progress`` and ``ratio``, and declares its parameters as uniforms whose defaults sit
in comments, because GLSL 1.20 cannot initialise a uniform::

    uniform float strength; // = 0.5
    uniform vec2 direction; // = vec2(1.0, 0.0)
    uniform bool inverted /* = true */;
    uniform ivec2 squares; // = ivec2(10)
    uniform sampler2D luma;            // an image file given in the deck; no default

This module reads those declarations, parses their defaults, and checks and converts
the values a deck supplies (`resolve_user_params`) into what a GL uniform takes: a bool
is true/false or 1/0 (GLSL's ``bool(1)``), an int fits 32 bits, a float is finite in
single precision; anything else is a SpecError naming the file or the parameter, never
a failure in the middle of the render. It is pure text work: compiling and running the file is the GL compositor's job.

Reading is linear in the file's length, whatever it holds: statements are found with
plain string searches and each regular expression has no nested or overlapping
quantifiers, so 60,000 ``uniform float a`` lines without a ``;`` cost milliseconds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import SpecError, excerpt
from .files import read_regular

__all__ = [
    "RESIZE_KEY",
    "RESIZE_MODES",
    "UniformParam",
    "UserTransition",
    "parse_uniforms",
    "read_user_transition",
    "resolve_user_params",
    "user_transition_file",
    "user_transition_key",
]

# A file transition travels through the timeline as "file:<absolute path>".
_KEY_PREFIX = "file:"
#: How a file's images meet the frame rides along with its parameters under a key no
#: GLSL uniform can have (names with "__" are reserved to the implementation).
RESIZE_KEY = "__resize"
RESIZE_MODES = ("stretch", "cover", "contain")


def user_transition_key(file: Path | str) -> str:
    return _KEY_PREFIX + str(Path(file).absolute())


def user_transition_file(key: str | None) -> Path | None:
    """The file behind a transition key, or None for a built-in's name."""
    if key is not None and key.startswith(_KEY_PREFIX):
        return Path(key[len(_KEY_PREFIX) :])
    return None


# Uniforms the host provides; a file may redeclare them, they are not parameters.
_HOST_UNIFORMS = {"progress", "ratio", "from", "to", "_fromR", "_toR"}

_COMPONENTS = {"float": 1, "int": 1, "bool": 1, "vec2": 2, "vec3": 3, "vec4": 4, "ivec2": 2, "ivec3": 3, "ivec4": 4}
_TYPES = tuple(_COMPONENTS) + ("sampler2D",)

# The start of a uniform statement: its keyword and type. The body runs to the next
# ";" (found with str.find), the trailing comment to the end of that line.
_UNIFORM = re.compile(r"\buniform\s+(?P<type>\w+)\s")
# "// = value" after the statement; a ";" ends the value if another comment follows.
_TRAILING = re.compile(r"\s*//\s*=(?P<value>[^;\n]*)")
_NAME = re.compile(r"[A-Za-z_]\w*")
# Whole-line comments, except "// = default" ones.
_LINE_COMMENT = re.compile(r"^[ \t]*//(?![ \t]*=).*$", re.MULTILINE)
# No two quantifiers can take the same characters: linear even on a failing match.
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_BOOL_LITERALS = {"true": True, "false": False, "1": True, "0": False}
# What a uniform can hold: GLSL ints are 32-bit, floats single precision (both as
# glUniform takes them; a larger value would fail only when the render packs it).
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_FLOAT_MAX = 3.4028234663852886e38


@dataclass(frozen=True)
class UniformParam:
    name: str
    type: str  # one of _TYPES
    default: object = None  # float | int | bool | tuple; None for sampler2D (or no default given)

    @property
    def is_texture(self) -> bool:
        return self.type == "sampler2D"


@dataclass(frozen=True)
class UserTransition:
    file: Path
    source: str
    params: dict[str, UniformParam]


def read_user_transition(file: Path | str, max_bytes: int | None = None) -> UserTransition:
    """Read a gl-transitions file; AssetError if unreadable, not a regular file or larger
    than `max_bytes` (REEL_MAX_SHADER_BYTES), SpecError if it is not a transition."""
    file = Path(file)
    raw = read_regular(file, "transition file", max_bytes, setting="REEL_MAX_SHADER_BYTES")
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{file.name} is not UTF-8 text (bad byte at offset {exc.start})", "file") from exc
    if not re.search(r"\bvec4\s+transition\s*\(\s*vec2\s+\w+\s*\)", source):
        raise SpecError(
            f"{file.name} does not define vec4 transition(vec2 uv), which gl-transitions files must", "file"
        )
    return UserTransition(file, source, parse_uniforms(source, file.name))


def parse_uniforms(source: str, where: str = "shader") -> dict[str, UniformParam]:
    """The parameter uniforms declared in `source`, with their comment defaults."""
    text = _LINE_COMMENT.sub("", source)
    params: dict[str, UniformParam] = {}
    for kind, body, rest in _statements(text):
        if kind not in _TYPES:
            raise SpecError(f"{where}: uniform type {excerpt(kind)} is not supported (use {', '.join(_TYPES)})", "file")
        trailing = _TRAILING.match(rest)
        for declarator in _split_declarators(body):
            name, inline = _declarator(declarator.strip(), where)
            if name in _HOST_UNIFORMS:
                continue
            # An inline /* = v */ wins; a trailing "// = v" is shared by the others.
            written = inline if inline is not None else (trailing and trailing["value"])
            default = None
            if written and kind != "sampler2D":
                default = _parse_value(kind, written.strip().rstrip(";"), f"{where}: default of {name}")
            params[name] = UniformParam(name, kind, default)
    return params


def _statements(text: str):
    """(type, body, rest of the line) per ``uniform TYPE body;`` statement, in one pass.

    A ``uniform`` without a ``;`` after it ends the search: there is no statement
    after it either (the compiler reports the missing ``;``).
    """
    position = 0
    while True:
        match = _UNIFORM.search(text, position)
        if match is None:
            return
        end = text.find(";", match.end())
        if end < 0:
            return
        line_end = text.find("\n", end + 1)
        line_end = len(text) if line_end < 0 else line_end
        yield match["type"], text[match.end() : end], text[end + 1 : line_end]
        position = line_end


def _declarator(text: str, where: str) -> tuple[str, str | None]:
    """``name`` or ``name /* = value */`` → (name, the inline default or None)."""
    found = _NAME.match(text)
    rest = text[found.end() :].strip() if found else ""
    if found and not rest:
        return found.group(), None
    if found and rest.startswith("/*") and rest.endswith("*/") and len(rest) >= 4 and "\n" not in rest:
        inside = rest[2:-2].strip()
        if inside.startswith("="):
            return found.group(), inside[1:].strip()
    raise SpecError(f"{where}: cannot read the uniform declaration {excerpt(text)}", "file")


def _split_declarators(body: str) -> list[str]:
    # Commas inside /* = vec2(1, 0) */ are not separators.
    if "(" not in body:
        return body.split(",")
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for character in body:
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        if character == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(character)
    parts.append("".join(current))
    return parts


def _parse_value(kind: str, text: str, where: str) -> object:
    """A GLSL literal (``0.5``, ``true``, ``vec2(1.0)``, ``ivec2(10, 4)``) as a Python value."""
    count = _COMPONENTS[kind]
    if kind == "bool":
        if text in _BOOL_LITERALS:  # GLSL's bool(1) is true, bool(0) false
            return _BOOL_LITERALS[text]
        raise SpecError(f"{where}: {excerpt(text)} is not true or false (or 1 or 0)", "file")
    if count == 1:
        if not re.fullmatch(_NUMBER, text):
            raise SpecError(f"{where}: {excerpt(text)} is not a number", "file")
        return _literal(kind, text, where)
    call = re.fullmatch(rf"{kind}\s*\((?P<args>[^)]*)\)", text)
    if not call:
        raise SpecError(f"{where}: expected {kind}(...), got {excerpt(text)}", "file")
    numbers = [part.strip() for part in call["args"].split(",")]
    if not all(re.fullmatch(_NUMBER, n) for n in numbers) or len(numbers) not in (1, count):
        raise SpecError(f"{where}: {kind} takes 1 or {count} numbers, got {excerpt(text)}", "file")
    values = [_literal(kind, n, where) for n in numbers]
    return tuple(values * (count if len(values) == 1 else 1))  # vec3(1.0) broadcasts


def _literal(kind: str, text: str, where: str) -> float:  # an int for int kinds
    """One number of a default, in range for its uniform's component type (SpecError at "file")."""
    integer = kind == "int" or kind.startswith("i")
    number = float(text)  # a literal past double range reads as inf: out of range either way
    if integer and math.isfinite(number) and abs(number) <= 2**63:
        try:  # an integer literal exactly; 6.0 for an int is taken as 6, as before
            value: float = int(text) if re.fullmatch(r"[-+]?\d+", text) else int(number)
        except ValueError:  # more digits than Python converts (leading zeros)
            value = int(number)
    else:
        value = number
    problem = _out_of_range(value, integer)
    if problem:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise SpecError(f"{where}: {shown} {problem}", "file")
    return value


def _out_of_range(value: float, integer: bool) -> str | None:
    """Why `value` cannot be a GLSL int (32-bit) or float (finite, single precision), or None."""
    if integer:
        if isinstance(value, float) or not _INT_MIN <= value <= _INT_MAX:
            return f"is out of range for a GLSL int ({_INT_MIN} to {_INT_MAX})"
        return None
    if isinstance(value, float) and math.isnan(value):
        return "is not a number (NaN)"
    if abs(value) > _FLOAT_MAX:  # inf too; an int is compared exactly, however large
        return f"is out of range for a GLSL float (at most ±{_FLOAT_MAX:.8g})"
    return None


def resolve_user_params(
    transition: UserTransition, given: dict[str, object] | None, path: str = "params"
) -> dict[str, object]:
    """Defaults merged with the deck's `given` values, each checked against its uniform's type.

    Texture parameters come back as absolute file paths (str) for the compositor to load.
    """
    given = dict(given or {})
    unknown = sorted(set(given) - set(transition.params))
    if unknown:
        names = ", ".join(transition.params) or "none"
        raise SpecError(f"{transition.file.name} has no parameter {excerpt(unknown[0])} (parameters: {names})", path)
    resolved: dict[str, object] = {}
    for name, param in transition.params.items():
        where = f"{path}.{name}"
        if name not in given:
            if param.default is None:
                if param.is_texture:
                    raise SpecError(
                        f"{transition.file.name} needs an image file for its sampler2D {excerpt(name)}", where
                    )
                resolved[name] = _zero(param.type)  # GL's own default for an unset uniform
            else:
                resolved[name] = param.default
            continue
        resolved[name] = _check_value(param, given[name], where)
    return resolved


def _zero(kind: str) -> object:
    count = _COMPONENTS[kind]
    if kind == "bool":
        return False
    zero = 0 if kind.startswith("i") or kind == "int" else 0.0
    return zero if count == 1 else (zero,) * count


def _check_value(param: UniformParam, value: object, where: str) -> object:
    kind = param.type
    if param.is_texture:
        if not isinstance(value, str) or not value.strip():
            raise SpecError("an image file path is expected for a sampler2D parameter", where)
        return value
    if kind == "bool":
        # true/false, or 1/0 as GLSL's bool(1) reads them (not 1.0, not "1").
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return bool(value)
        raise SpecError(f"must be true or false (or 1 or 0), got {excerpt(value)}", where)
    count = _COMPONENTS[kind]
    integer = kind == "int" or kind.startswith("i")
    if count == 1:
        items: list[object] = [value]
    elif isinstance(value, (list, tuple)) and len(value) == count:
        items = list(value)
    else:
        raise SpecError(f"{kind} takes a list of {count} numbers, got {excerpt(value)}", where)
    checked: list[int | float] = []
    for item in items:
        if (
            isinstance(item, bool)
            or not isinstance(item, (int, float))
            or (isinstance(item, float) and not math.isfinite(item))
        ):
            raise SpecError(f"must be {'integers' if integer else 'finite numbers'}, got {excerpt(value)}", where)
        if integer and isinstance(item, float):
            if not item.is_integer():
                raise SpecError(f"{kind} takes whole numbers, got {excerpt(value)}", where)
            item = int(item)
        problem = _out_of_range(item, integer)
        if problem:
            raise SpecError(f"{excerpt(item)} {problem}", where)
        checked.append(item if integer else float(item))
    return checked[0] if count == 1 else tuple(checked)
