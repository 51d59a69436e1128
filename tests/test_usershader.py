"""User gl-transitions files: parameters, defaults and values from the deck."""

import json
from pathlib import Path

import pytest

from engine.errors import AssetError, SpecError
from engine.usershader import parse_uniforms, read_user_transition, resolve_user_params

DATA = Path(__file__).parent / "data" / "transitions"


def test_every_parameter_type_and_default_form_is_read():
    transition = read_user_transition(DATA / "ShutterBlinds.glsl")
    params = {name: (p.type, p.default) for name, p in transition.params.items()}
    assert params == {
        "count": ("int", 6),
        "fromBottom": ("bool", False),
        "offset": ("vec2", (0.0, 0.0)),
        "tint": ("vec3", (1.0, 1.0, 1.0)),  # vec3(1.0) broadcasts
        "cells": ("ivec2", (4, 2)),
    }


def test_sampler_parameter_has_no_default_and_must_be_given():
    transition = read_user_transition(DATA / "LumaMatte.glsl")
    assert transition.params["luma"].is_texture and transition.params["softness"].default == 0.1
    with pytest.raises(SpecError, match="needs an image file for its sampler2D 'luma'"):
        resolve_user_params(transition, {})
    assert resolve_user_params(transition, {"luma": "/abs/matte.png"}) == {"luma": "/abs/matte.png", "softness": 0.1}


def test_shared_and_inline_defaults_and_host_uniforms():
    params = parse_uniforms(
        """
        uniform float progress;          // the host's, not a parameter
        uniform float a /* = 1.5 */, b; // = 2.0; // b takes the shared trailing default
        // uniform float commented; // = 9.0
        vec4 transition(vec2 uv) { return vec4(0.0); }
        """
    )
    assert {n: p.default for n, p in params.items()} == {"a": 1.5, "b": 2.0}


def test_deck_values_are_checked_against_the_uniform_types():
    transition = read_user_transition(DATA / "ShutterBlinds.glsl")
    given = {"count": 3, "fromBottom": True, "offset": [0.1, 0.2], "tint": [1, 0.5, 0.25], "cells": [2, 3]}
    assert resolve_user_params(transition, given) == {
        "count": 3,
        "fromBottom": True,
        "offset": (0.1, 0.2),
        "tint": (1.0, 0.5, 0.25),
        "cells": (2, 3),
    }
    for bad, message in [
        ({"count": 2.5}, "whole numbers"),
        ({"fromBottom": 2}, "true or false"),
        ({"fromBottom": 1.0}, "true or false"),
        ({"fromBottom": "1"}, "true or false"),
        ({"offset": [1.0]}, "list of 2 numbers"),
        ({"tint": [1, "x", 0]}, "finite numbers"),
        ({"nope": 1}, "has no parameter 'nope'"),
    ]:
        with pytest.raises(SpecError, match=message):
            resolve_user_params(transition, bad, "slides[2].transition.params")


def test_a_file_that_is_not_a_transition_or_missing():
    with pytest.raises(AssetError, match="not found"):
        read_user_transition(DATA / "Missing.glsl")
    with pytest.raises(SpecError, match="does not define vec4 transition"):
        parse_file = DATA.parent / "not-a-transition.glsl"
        parse_file.write_text("void main() {}\n")
        try:
            read_user_transition(parse_file)
        finally:
            parse_file.unlink()


def test_bad_default_and_unsupported_type_are_spec_errors():
    with pytest.raises(SpecError, match="is not a number"):
        parse_uniforms("uniform float x; // = fast\n")
    with pytest.raises(SpecError, match="not supported"):
        parse_uniforms("uniform mat3 m;\n")


def test_the_broken_file_still_parses_its_parameters():
    # Its error is for the compiler to find; reading parameters must not trip on it.
    assert read_user_transition(DATA / "Broken.glsl").params["amount"].default == 1.0


def _deck_with(transition, tmp_path=None):
    import engine

    slides = [{"kind": "title", "title": "a"}, {"kind": "title", "title": "b", "transition": transition}]
    return engine.load_deck({"slides": slides}, base_dir=DATA)


def test_a_deck_names_a_file_relative_to_itself_and_its_image_parameters_too():
    from engine.usershader import user_transition_file

    deck = _deck_with(
        {"file": "LumaMatte.glsl", "duration": 1, "params": {"luma": "../../../examples/assets/plate.png"}}
    )
    timing = deck.timings()[1]
    assert user_transition_file(timing.transition) == DATA / "LumaMatte.glsl"
    assert Path(timing.transition_params["luma"]).is_file() and timing.transition_params["softness"] == 0.1


@pytest.mark.parametrize(
    "transition,error,message",
    [
        (
            {"file": "LumaMatte.glsl"},
            SpecError,
            r"^slides\[1\]\.transition\.params\.luma: LumaMatte\.glsl needs an image",
        ),
        (
            {"file": "LumaMatte.glsl", "params": {"luma": "gone.png"}},
            AssetError,
            r"^slides\[1\]\.transition\.params\.luma: image not found",
        ),
        ({"file": "Gone.glsl"}, AssetError, r"^slides\[1\]\.transition\.file: transition file not found"),
        (
            {"file": "ShutterBlinds.glsl", "params": {"count": "4"}},
            SpecError,
            r"^slides\[1\]\.transition\.params\.count: must be integers",
        ),
        (
            {"name": "fade", "file": "Broken.glsl"},
            SpecError,
            r"^slides\[1\]\.transition\.file: give a built-in name or a file",
        ),
    ],
)
def test_file_transition_mistakes_name_their_path(transition, error, message):
    with pytest.raises(error, match=message):
        _deck_with(transition)


# --- bools as GLSL reads them, numbers a uniform can hold ------------------------------------


def test_bool_defaults_and_deck_values_take_1_and_0_as_glsl_does():
    params = parse_uniforms("uniform bool a; // = 1\nuniform bool b /* = 0 */, c; // = true\n")
    assert {n: p.default for n, p in params.items()} == {"a": True, "b": False, "c": True}
    with pytest.raises(SpecError, match=r"default of a: '2' is not true or false \(or 1 or 0\)"):
        parse_uniforms("uniform bool a; // = 2\n")
    transition = read_user_transition(DATA / "ShutterBlinds.glsl")
    for given, expected in ((1, True), (0, False), (True, True), (False, False)):
        resolved = resolve_user_params(transition, {"fromBottom": given})["fromBottom"]
        assert resolved is expected  # a real bool for the GL uniform


@pytest.mark.parametrize(
    "source, words",
    [
        ("uniform int count; // = 2147483648", "default of count: 2147483648 is out of range for a GLSL int"),
        ("uniform int count; // = -2147483649", "default of count: -2147483649 is out of range"),
        ("uniform int count; // = 1e400", "default of count: 1e400 is out of range"),
        ("uniform ivec2 cells; // = ivec2(4, 3000000000)", "default of cells: 3000000000 is out of range"),
        ("uniform ivec3 cells /* = ivec3(4294967296) */;", "default of cells: 4294967296 is out of range"),
        ("uniform float f; // = 1e400", "default of f: 1e400 is out of range for a GLSL float"),
        ("uniform vec2 v; // = vec2(0.0, 1e39)", "default of v: 1e39 is out of range for a GLSL float"),
    ],
)
def test_a_default_a_uniform_cannot_hold_is_a_spec_error_on_the_file(source, words):
    with pytest.raises(SpecError) as caught:
        parse_uniforms(source + "\n", "Big.glsl")
    assert caught.value.path == "file" and words in str(caught.value) and "\n" not in str(caught.value)


def test_defaults_at_the_ends_of_the_int32_range_are_kept_exactly():
    params = parse_uniforms("uniform int hi; // = 2147483647\nuniform ivec2 lo; // = ivec2(-2147483648, 0)\n")
    assert params["hi"].default == 2**31 - 1 and params["lo"].default == (-(2**31), 0)


@pytest.mark.parametrize(
    "given, key, words",
    [
        ({"count": 2**31}, "count", "2147483648 is out of range for a GLSL int"),
        ({"count": -(2**31) - 1}, "count", "-2147483649 is out of range"),
        ({"count": 3e9}, "count", "3000000000 is out of range"),
        ({"count": 10**400}, "count", "is out of range"),
        ({"cells": [1, 2**40]}, "cells", "1099511627776 is out of range"),
        ({"offset": [0.0, float("nan")]}, "offset", "must be finite numbers"),
        ({"offset": [float("inf"), 0.0]}, "offset", "must be finite numbers"),
        ({"offset": [1e39, 0.0]}, "offset", "1e+39 is out of range for a GLSL float"),
        ({"offset": [10**400, 0]}, "offset", "is out of range for a GLSL float"),
    ],
)
def test_deck_values_a_uniform_cannot_hold_name_their_parameter(given, key, words):
    transition = read_user_transition(DATA / "ShutterBlinds.glsl")
    with pytest.raises(SpecError) as caught:
        resolve_user_params(transition, given, "slides[1].transition.params")
    assert caught.value.path == f"slides[1].transition.params.{key}"
    assert words in str(caught.value) and "\n" not in str(caught.value)
    edge = {"count": 2**31 - 1, "cells": [-(2**31), 2**31 - 1], "offset": [3.4e38, -3.4e38]}
    assert resolve_user_params(transition, edge)["count"] == 2**31 - 1


def _overflow_deck(tmp_path, file, params):
    deck = {
        "slides": [
            {"kind": "title", "title": "A", "duration": 1},
            {
                "kind": "title",
                "title": "B",
                "duration": 1,
                "transition": {"file": str(file), "duration": 0.5, "params": params},
            },
        ]
    }
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    out = tmp_path / "out"
    out.mkdir()
    return ["render", str(tmp_path / "deck.json"), "-p", "64x36@5", "-o", str(out)], out


def test_cli_int_parameter_past_int32_is_a_one_line_error_with_its_path(tmp_path, capsys):
    from engine import cli

    args, out = _overflow_deck(tmp_path, DATA / "ShutterBlinds.glsl", {"count": 2**31})
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("reel: error: slides[1].transition.params.count: 2147483648 is out of range") and "\n" not in err
    )
    assert list(out.iterdir()) == []


def test_cli_int_default_past_int32_is_a_one_line_error_on_the_file(tmp_path, capsys):
    from engine import cli

    file = tmp_path / "Big.glsl"
    file.write_text((DATA / "ShutterBlinds.glsl").read_text().replace("// = 6", "// = 4294967296"))
    args, out = _overflow_deck(tmp_path, file, {})
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "reel: error: slides[1].transition.file: Big.glsl: default of count: 4294967296 is out of range"
    )
    assert "\n" not in err and list(out.iterdir()) == []
