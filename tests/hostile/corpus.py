"""Every case of the corpus, by group (see README.md)."""

from __future__ import annotations

from .case import Case
from .cases_assets import audio, fonts, glsl, huge_strings, images
from .cases_cli import cli, outputs, valid
from .cases_deck import schema, syntax, yaml_bombs

GROUPS = {
    "syntax": syntax,
    "yaml-bomb": yaml_bombs,
    "schema": schema,
    "huge-string": huge_strings,
    "font": fonts,
    "image": images,
    "audio": audio,
    "glsl": glsl,
    "cli": cli,
    "output": outputs,
    "valid": valid,
}


def all_cases() -> list[Case]:
    """The whole corpus; ids are unique."""
    cases = [case for make in GROUPS.values() for case in make()]
    ids = [case.id for case in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate case ids: {duplicates}")
    return cases
