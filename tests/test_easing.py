import pytest

import engine
from engine.easing import EASINGS, Easing, easing_names, parse_easing
from engine.errors import SpecError
from engine.timeline import SlideTiming, build_timeline

SAMPLES = [i / 20 for i in range(21)]


@pytest.mark.parametrize("name", easing_names())
def test_every_curve_starts_at_0_and_ends_at_1_exactly(name):
    curve = parse_easing(name)
    assert curve(0.0) == 0.0 and curve(1.0) == 1.0
    assert curve(-3) == 0.0 and curve(7) == 1.0  # time is clamped first


@pytest.mark.parametrize("name", [n for n in EASINGS if "back" not in n])
def test_curves_without_overshoot_rise_monotonically_inside_0_1(name):
    values = [parse_easing(name)(t) for t in SAMPLES]
    assert values == sorted(values) and all(0 <= v <= 1 for v in values)


def test_back_curves_overshoot():
    assert min(parse_easing("ease-in-back")(t) for t in SAMPLES) < 0
    assert max(parse_easing("ease-out-back")(t) for t in SAMPLES) > 1


@pytest.mark.parametrize("strength", ["cubic", "quint", "expo", "back"])
def test_in_out_is_symmetric_and_half_at_half(strength):
    curve = parse_easing(f"ease-in-out-{strength}")
    assert curve(0.5) == pytest.approx(0.5)
    for t in SAMPLES:
        assert curve(t) + curve(1 - t) == pytest.approx(1.0)


def test_ease_in_is_slow_first_and_ease_out_fast_first():
    assert parse_easing("ease-in")(0.25) < 0.25 < parse_easing("ease-out")(0.25)
    assert parse_easing("ease-in") == parse_easing("ease-in-cubic")


def test_cubic_bezier_matches_css_ease():
    # CSS "ease" is cubic-bezier(0.25, 0.1, 0.25, 1): 0.8024 at half time.
    curve = parse_easing([0.25, 0.1, 0.25, 1.0])
    assert curve(0.5) == pytest.approx(0.8024, abs=1e-3)
    assert parse_easing("cubic-bezier(0.25, 0.1, 0.25, 1)") == curve
    assert str(curve) == "cubic-bezier(0.25, 0.1, 0.25, 1)"
    assert parse_easing([0, 0, 1, 1])(0.3) == pytest.approx(0.3, abs=1e-6)  # the diagonal


@pytest.mark.parametrize(
    "value,message",
    [
        ("ease-inn", "did you mean 'ease-in'"),
        ([0.1, 0.2, 0.3], "four numbers"),
        ([1.5, 0, 0.5, 1], "within 0..1"),
        ("cubic-bezier(a, b, c, d)", "four numbers"),
        ([0, float("nan"), 1, 1], "finite"),
        (3, "a name or four numbers"),
    ],
)
def test_bad_easings_are_spec_errors(value, message):
    with pytest.raises(SpecError, match=message):
        parse_easing(value)


def test_timeline_progress_follows_the_easing():
    def fade(easing):
        slides = [SlideTiming(3.0), SlideTiming(3.0, "fade", 1.0, {}, easing)]
        return build_timeline(slides, fps=9).segments[1]

    linear, eased = fade(Easing()), fade(parse_easing("ease-in"))
    middle = linear.start + 4  # time 5/10
    assert linear.progress(middle) == pytest.approx(0.5)
    assert eased.progress(middle) == pytest.approx(0.125)


def test_deck_easing_reaches_the_timeline_and_bad_ones_name_their_path():
    slides = [
        {"kind": "title", "title": "a"},
        {"kind": "title", "title": "b", "transition": {"easing": "ease-out-expo"}},
    ]
    deck = engine.load_deck({"slides": slides})
    assert deck.timings()[1].transition_easing == parse_easing("ease-out-expo")
    slides[1]["transition"]["easing"] = "bounce"
    with pytest.raises(SpecError, match=r"^slides\[1\]\.transition\.easing: unknown easing"):
        engine.load_deck({"slides": slides})


def test_an_eased_fade_decodes_to_the_eased_mix(tmp_path):
    import numpy as np

    from engine.colour import parse_colour

    from .helpers import decode_frames

    red, blue = "#c83232", "#2850c8"
    deck = {
        "slides": [
            {"kind": "title", "title": "A", "duration": 3.0, "background": red},
            {
                "kind": "title",
                "title": "B",
                "duration": 3.0,
                "background": blue,
                "transition": {"name": "fade", "duration": 1.0, "easing": "ease-in"},
            },
        ]
    }
    engine.render(deck, tmp_path / "eased.mp4", platform="320x180@9", compositor="cpu")
    middle = 2 * 9 + 4  # time 5/10 of the fade: ease-in gives progress 0.125
    corner = decode_frames(tmp_path / "eased.mp4", {middle})[middle][2:8, 2:8].reshape(-1, 3).mean(axis=0)
    expected = 0.875 * np.array(parse_colour(red)) + 0.125 * np.array(parse_colour(blue))
    assert np.abs(corner - expected).max() <= 4
