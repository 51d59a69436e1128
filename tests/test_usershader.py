"""User gl-transitions files: parameters, defaults and values from the deck."""

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
        ({"fromBottom": 1}, "true or false"),
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

    deck = _deck_with({"file": "LumaMatte.glsl", "duration": 1, "params": {"luma": "../../../examples/assets/plate.png"}})
    timing = deck.timings()[1]
    assert user_transition_file(timing.transition) == DATA / "LumaMatte.glsl"
    assert Path(timing.transition_params["luma"]).is_file() and timing.transition_params["softness"] == 0.1


@pytest.mark.parametrize(
    "transition,error,message",
    [
        ({"file": "LumaMatte.glsl"}, SpecError, r"^slides\[1\]\.transition\.params\.luma: LumaMatte\.glsl needs an image"),
        ({"file": "LumaMatte.glsl", "params": {"luma": "gone.png"}}, AssetError, r"^slides\[1\]\.transition\.params\.luma: image not found"),
        ({"file": "Gone.glsl"}, AssetError, r"^slides\[1\]\.transition\.file: transition file not found"),
        ({"file": "ShutterBlinds.glsl", "params": {"count": "4"}}, SpecError, r"^slides\[1\]\.transition\.params\.count: must be integers"),
        ({"name": "fade", "file": "Broken.glsl"}, SpecError, r"^slides\[1\]\.transition\.file: give a built-in name or a file"),
    ],
)
def test_file_transition_mistakes_name_their_path(transition, error, message):
    with pytest.raises(error, match=message):
        _deck_with(transition)
