"""engine/spec.py: loading decks, the errors users see, timing arithmetic, the schema."""

from __future__ import annotations

import copy
import json
import math
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from engine.errors import AssetError, SpecError
from engine.spec import (
    Background,
    BulletsSlide,
    Deck,
    Gradient,
    ImageSlide,
    TextSlide,
    TitleSlide,
    TransitionSpec,
    deck_json_schema,
    load_deck,
)
from engine.timeline import build_timeline


def minimal_deck() -> dict:
    return {
        "slides": [
            {"kind": "title", "title": "Hello"},
            {"kind": "bullets", "title": "Points", "bullets": ["one", "two", "three"]},
            {"kind": "text", "text": "Bye", "style": "quote", "attribution": "me"},
        ]
    }


def write_png(path: Path) -> Path:
    Image.new("RGB", (4, 4), (200, 30, 30)).save(path)
    return path


def spec_error_for(data: object) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_deck(data)
    return caught.value


# --- loading ----------------------------------------------------------------------


def test_minimal_deck_loads_with_defaults():
    deck = load_deck(minimal_deck())

    assert [type(s) for s in deck.slides] == [TitleSlide, BulletsSlide, TextSlide]
    assert deck.title is None and deck.seed == 0
    assert deck.theme.background == Background(color="#14161b")
    assert deck.theme.text_color == "#ffffff" and deck.theme.text_rgb == (255, 255, 255)
    assert deck.theme.font is None and deck.theme.font_bold is None
    assert deck.defaults.slide_duration == 5.0
    assert deck.defaults.transition == TransitionSpec(name="fade", duration=0.5)
    assert deck.base_dir == Path.cwd()


def test_json_file_loads_and_resolves_image_against_its_folder(tmp_path, monkeypatch):
    folder = tmp_path / "talk"
    (folder / "img").mkdir(parents=True)
    png = write_png(folder / "img" / "photo.png")
    deck_file = folder / "deck.json"
    deck_file.write_text(json.dumps({"slides": [{"kind": "image", "file": "img/photo.png", "fit": "contain"}]}))
    monkeypatch.chdir(tmp_path)  # the deck's folder, not the cwd, must be the base

    deck = load_deck(deck_file)

    assert deck.slides[0].file == png
    assert deck.slides[0].fit == "contain"
    assert deck.base_dir == folder


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_file_loads_and_resolves_paths_against_its_folder(tmp_path, suffix):
    png = write_png(tmp_path / "bg.png")
    font = tmp_path / "Font.otf"
    font.write_bytes((Path(__file__).parent.parent / "fonts" / "Inter-Regular.otf").read_bytes())
    deck_file = tmp_path / f"deck{suffix}"
    deck_file.write_text(
        "title: Demo\n"
        "theme:\n"
        "  background: {image: bg.png}\n"
        "  font: Font.otf\n"
        "slides:\n"
        "  - kind: image\n"
        "    file: bg.png\n"
        "    caption: A caption\n"
    )

    deck = load_deck(str(deck_file))

    assert deck.title == "Demo"
    assert deck.theme.background.image == png and deck.theme.background.fit == "cover"
    assert deck.theme.font == font
    assert isinstance(deck.slides[0], ImageSlide) and deck.slides[0].file == png


def test_dict_paths_resolve_against_base_dir(tmp_path):
    png = write_png(tmp_path / "a.png")
    deck = load_deck({"slides": [{"kind": "image", "file": "a.png"}]}, base_dir=tmp_path)
    assert deck.slides[0].file == png
    assert deck.base_dir == tmp_path


def test_deck_instance_is_returned_as_is():
    deck = Deck(slides=[TitleSlide(title="Hi")])
    assert load_deck(deck) is deck


def test_shorthands_for_background_and_transition():
    data = minimal_deck()
    data["theme"] = {"background": "#123", "accent": [1, 2, 3]}
    data["slides"][1]["background"] = "white"
    data["slides"][1]["transition"] = "wipeleft"

    deck = load_deck(data)

    assert deck.theme.background.color == "#112233"
    assert deck.theme.accent == "#010203" and deck.theme.accent_rgb == (1, 2, 3)
    assert deck.slides[1].background.color_rgb == (255, 255, 255)
    assert deck.slides[1].transition == TransitionSpec(name="wipeleft", duration=0.5)


def test_gradient_is_written_with_from_and_to():
    data = minimal_deck()
    data["theme"] = {"background": {"gradient": {"from": "#000", "to": "#fff", "direction": "diagonal"}}}

    gradient = load_deck(data).theme.background.gradient

    assert gradient == Gradient(start="#000000", end="#ffffff", direction="diagonal")
    assert (gradient.start_rgb, gradient.end_rgb) == ((0, 0, 0), (255, 255, 255))


def test_schema_key_in_deck_is_ignored():
    data = {"$schema": "https://example.com/reel.json", **minimal_deck()}
    assert len(load_deck(data).slides) == 3


def test_transition_on_first_slide_is_ignored():
    data = minimal_deck()
    data["slides"][0]["transition"] = {"name": "fade", "duration": 99}
    deck = load_deck(data)
    assert deck.transition_into(0) is None
    assert deck.timings()[0].transition is None


# --- timing -------------------------------------------------------------------------


def test_three_five_second_slides_with_one_second_fades_last_thirteen_seconds():
    data = minimal_deck()
    data["defaults"] = {"transition": {"name": "fade", "duration": 1}}

    deck = load_deck(data)

    assert deck.total_duration() == pytest.approx(13.0)
    assert [(t.duration, t.transition, t.transition_duration) for t in deck.timings()] == [
        (5.0, None, 0.0),
        (5.0, "fade", 1.0),
        (5.0, "fade", 1.0),
    ]
    assert build_timeline(deck.timings(), 30).frame_count == 13 * 30


def test_cut_and_zero_duration_transitions_are_no_transition():
    data = minimal_deck()
    data["slides"][1]["transition"] = {"name": "cut", "duration": 2}
    data["slides"][2]["transition"] = {"name": "wipeleft", "duration": 0}
    data["slides"][2]["duration"] = 2.5

    deck = load_deck(data)

    assert deck.slides[1].transition.duration == 0.0
    assert deck.transition_into(1) is None and deck.transition_into(2) is None
    assert [t.transition for t in deck.timings()] == [None, None, None]
    assert deck.total_duration() == pytest.approx(12.5)


def test_timings_carry_resolved_transition_params():
    data = minimal_deck()
    data["slides"][2]["transition"] = {"name": "fadeblack", "duration": 1, "params": {"color": "#ff0000"}}

    timing = load_deck(data).timings()[2]

    assert timing.transition == "fadeblack"
    assert timing.transition_params == {"color": (255, 0, 0)}


def test_slide_duration_prefers_the_slide_over_defaults():
    data = minimal_deck()
    data["defaults"] = {"slide_duration": 4}
    data["slides"][0]["duration"] = 2
    deck = load_deck(data)
    assert [deck.slide_duration(i) for i in range(3)] == [2.0, 4.0, 4.0]
    assert deck.total_duration() == pytest.approx(2 + 4 + 4 - 0.5 - 0.5)


# --- errors: each names the JSON path first -----------------------------------------


def _set(path: str, value: object):
    """A mutation of minimal_deck(): set the value at "a.b[2].c"-style `path`."""

    def apply(data: dict) -> None:
        keys: list[str | int] = []
        for part in path.replace("[", ".[").split("."):
            if part:
                keys.append(int(part[1:-1]) if part.startswith("[") else part)
        node = data
        for key in keys[:-1]:
            if isinstance(key, str) and key not in node:
                node[key] = {}
            node = node[key]
        node[keys[-1]] = value

    return apply


ERROR_CASES = [
    # (mutation, expected message prefix, words the message must contain)
    (_set("slides[1].duration", 0), "slides[1].duration: must be > 0", ""),
    (_set("slides[1].duration", -2.5), "slides[1].duration: must be > 0", "-2.5"),
    (_set("slides[2].duration", float("nan")), "slides[2].duration: must be a finite number", "nan"),
    (_set("slides[2].duration", float("inf")), "slides[2].duration: must be a finite number", "inf"),
    (_set("slides[0].duration", True), "slides[0].duration: must be a number", "true"),
    (_set("slides[0].duration", "5"), "slides[0].duration: must be a number", "'5'"),
    (_set("slides[0].duration", 7200), "slides[0].duration: must be <= 3600", ""),
    (_set("defaults.slide_duration", 0), "defaults.slide_duration: must be > 0", ""),
    (_set("seed", False), "seed: must be a whole number", "false"),
    (_set("seed", 1.5), "seed: must be a whole number", ""),
    (_set("slides[0].titel", "x"), "slides[0].titel: unknown key; did you mean 'title'?", ""),
    (_set("theme.background", {"colour": "#fff"}), "theme.background.colour: unknown key; did you mean 'color'?", ""),
    (_set("slides[0].bullets", ["a"]), "slides[0].bullets: unknown key for a title slide", "kind 'bullets'"),
    (_set("extra", 1), "extra: unknown key", "slides"),
    (_set("slides[1].kind", "movie"), "slides[1].kind: unknown kind 'movie'", "title, bullets, image, text"),
    (_set("slides[1].kind", "bulets"), "slides[1].kind: unknown kind 'bulets'; did you mean 'bullets'?", ""),
    (lambda d: d["slides"][1].pop("kind"), "slides[1].kind: required", "title, bullets, image, text"),
    (_set("slides[1]", "a slide"), "slides[1]: must be an object", ""),
    (_set("slides[1].bullets[2]", ""), "slides[1].bullets[2]: must not be empty", ""),
    (_set("slides[1].bullets[1]", "   "), "slides[1].bullets[1]: must not be empty", ""),
    (_set("slides[1].bullets[0]", 3), "slides[1].bullets[0]: must be a string", ""),
    (_set("slides[1].bullets", ["b"] * 9), "slides[1].bullets: allows at most 8", ""),
    (_set("slides[1].bullets", []), "slides[1].bullets: needs at least 1", ""),
    (lambda d: d["slides"][0].pop("title"), "slides[0].title: required", ""),
    (_set("slides[0].title", 12), "slides[0].title: must be a string", "12"),
    (_set("slides", []), "slides: needs at least 1", ""),
    (_set("slides", {"kind": "title"}), "slides: must be a list", ""),
    (_set("slides", [{"kind": "title", "title": "t"}] * 501), "slides: allows at most 500", ""),
    (_set("theme.accent", "#12345"), "theme.accent: '#12345' is not a colour", ""),
    (_set("theme.text_color", [0, 0, 256]), "theme.text_color: [0, 0, 256] is not a colour", ""),
    (_set("theme.background", "bg.png"), "theme.background: 'bg.png' is not a colour", ""),
    (
        _set("theme.background", {"color": "red", "gradient": {"from": "red", "to": "blue"}}),
        "theme.background: give exactly one of color, gradient or image",
        "color and gradient",
    ),
    (_set("theme.background", {}), "theme.background: give exactly one of color, gradient or image", ""),
    (_set("theme.background", {"color": "red", "fit": "contain"}), "theme.background.fit: fit applies only", ""),
    (_set("theme.background", {"gradient": {"from": "red"}}), "theme.background.gradient.to: required", ""),
    (
        _set("slides[2].background", {"gradient": {"from": "red", "to": "blue", "direction": "up"}}),
        "slides[2].background.gradient.direction: must be 'vertical' or 'diagonal'",
        "",
    ),
    (_set("slides[2].style", "loud"), "slides[2].style: must be 'paragraph', 'quote' or 'big'", ""),
    (_set("slides[1].transition", "wipe"), "slides[1].transition.name: unknown transition 'wipe'", "wipeleft"),
    (_set("slides[1].transition", {"duration": -1}), "slides[1].transition.duration: must be >= 0", ""),
    (_set("slides[1].transition", {"duration": float("nan")}), "slides[1].transition.duration: must be a finite", ""),
    (
        _set("slides[1].transition", {"name": "fadeblack", "params": {"color": "mauve"}}),
        "slides[1].transition.params.color: 'mauve' is not a colour",
        "",
    ),
    (
        _set("slides[1].transition", {"name": "fade", "params": {"speed": 2}}),
        "slides[1].transition.params: fade has no parameter 'speed'",
        "",
    ),
    (
        _set("slides[1].transition", {"name": "wipeleft", "params": {"softness": float("inf")}}),
        "slides[1].transition.params.softness: must be a finite number",
        "",
    ),
    (
        _set("slides[1].transition", {"name": "wipeleft", "params": {"softness": True}}),
        "slides[1].transition.params.softness: must be a number",
        "",
    ),
    (
        _set("slides[1].transition", {"name": "wipeleft", "params": {"softness": 10**400}}),
        "slides[1].transition.params: a parameter is too large",
        "",
    ),
    # a transition longer than the slide it goes into...
    (
        _set("slides[2].transition", {"duration": 6}),
        "slides[2].transition.duration: the 6 s fade into slides[2]",
        "longer than that slide (5 s from defaults.slide_duration)",
    ),
    # ...or the slide it comes out of
    (
        lambda d: (_set("slides[1].duration", 2)(d), _set("slides[2].transition", {"duration": 3})(d)),
        "slides[2].transition.duration: the 3 s fade into slides[2] is longer than slides[1], which it comes out of",
        "(2 s)",
    ),
    # incoming + outgoing overlap inside slides[1]: blamed on the transition out of it
    (
        lambda d: (
            _set("slides[1].transition", {"duration": 3})(d),
            _set("slides[2].transition", {"duration": 2.5})(d),
        ),
        "slides[2].transition.duration: slides[1] lasts 5 s",
        "3 s fade into slides[1] and the 2.5 s fade into slides[2]",
    ),
    # the same overlap from inherited transitions is blamed on the too-short slide
    (
        _set("defaults", {"slide_duration": 4, "transition": {"duration": 2.5}}),
        "slides[1].duration: slides[1] lasts 4 s from defaults.slide_duration",
        "(from defaults.transition)",
    ),
    (
        _set("defaults.transition", {"duration": 6}),
        "slides[1].duration: the 6 s fade into slides[1] (from defaults.transition)",
        "",
    ),
]


@pytest.mark.parametrize(
    "mutate, prefix, words",
    ERROR_CASES,
    ids=[prefix.split(":")[0] + "|" + prefix[-20:] for _, prefix, _ in ERROR_CASES],
)
def test_invalid_deck_raises_spec_error_starting_with_json_path(mutate, prefix, words):
    data = minimal_deck()
    mutate(data)

    error = spec_error_for(data)

    assert str(error).startswith(prefix), str(error)
    assert words in str(error)
    assert str(error).startswith(error.path + ": ")
    assert "\n" not in str(error)


@pytest.mark.parametrize("key", ["A\n", "slides\n", "a b", "x\ty"])
def test_an_unknown_key_with_a_line_break_or_space_is_quoted_in_the_path(key):
    """A key ending in a line break once passed for a plain one (a regex's "$" matches
    before a final newline) and broke the one-line message; found by the fuzz test."""
    data = minimal_deck()
    data[key] = None

    error = spec_error_for(data)

    assert error.path == json.dumps(key).join("[]"), error.path
    assert "\n" not in str(error) and "\t" not in str(error)


def test_several_errors_report_the_first_and_count_the_rest():
    data = minimal_deck()
    data["slides"][0]["title"] = ""
    data["slides"][2]["style"] = "loud"
    assert str(spec_error_for(data)) == "slides[0].title: must not be empty (+1 more)"


@pytest.mark.parametrize("data", [None, [], 3, [minimal_deck()]], ids=repr)
def test_deck_that_is_not_an_object_raises_spec_error(data):
    assert "a deck must be an object with a 'slides' list" in str(spec_error_for(data))


def test_missing_image_raises_asset_error_naming_path_and_file(tmp_path):
    data = minimal_deck()
    data["slides"].append({"kind": "image", "file": "missing.png"})

    with pytest.raises(AssetError) as caught:
        load_deck(data, base_dir=tmp_path)

    missing = tmp_path / "missing.png"
    assert str(caught.value) == f"slides[3].file: image not found: {missing}"
    assert caught.value.file == str(missing)


def test_missing_background_image_and_font_raise_asset_error(tmp_path):
    data = minimal_deck()
    data["slides"][1]["background"] = {"image": "nope.jpg"}
    with pytest.raises(AssetError, match=r"^slides\[1\]\.background\.image: background image not found: "):
        load_deck(data, base_dir=tmp_path)

    data = minimal_deck()
    data["theme"] = {"font_bold": str(tmp_path)}  # a folder is not a font file
    with pytest.raises(AssetError, match=r"^theme\.font_bold: font is a folder, not a file: "):
        load_deck(data)


def test_empty_file_path_is_a_spec_error():
    data = minimal_deck()
    data["slides"].append({"kind": "image", "file": ""})
    assert str(spec_error_for(data)) == "slides[3].file: must not be empty"


def test_missing_deck_file_raises_asset_error(tmp_path):
    with pytest.raises(AssetError, match="deck file not found"):
        load_deck(tmp_path / "nope.json")


def test_malformed_json_reports_line_and_column(tmp_path):
    deck_file = tmp_path / "deck.json"
    deck_file.write_text('{\n  "slides": [\n    {"kind": "title" "title": "x"}\n  ]\n}\n')

    with pytest.raises(SpecError) as caught:
        load_deck(deck_file)

    assert str(caught.value).startswith(f"{deck_file}:3:22: invalid JSON: Expecting ','")


def test_malformed_yaml_reports_line_and_column(tmp_path):
    deck_file = tmp_path / "deck.yaml"
    deck_file.write_text("slides:\n  - kind: title\n    title: [unclosed\n")

    with pytest.raises(SpecError) as caught:
        load_deck(deck_file)

    assert str(caught.value).startswith(f"{deck_file}:4:1: invalid YAML:")


def test_yaml_validation_errors_use_the_same_paths(tmp_path):
    deck_file = tmp_path / "deck.yml"
    deck_file.write_text("slides:\n  - kind: title\n    title: Hi\n    duration: -1\n")
    with pytest.raises(SpecError, match=r"^slides\[0\]\.duration: must be > 0"):
        load_deck(deck_file)


def test_yaml_that_trips_pyyaml_itself_raises_spec_error(tmp_path):
    deck_file = tmp_path / "deck.yaml"
    deck_file.write_text("slides: !!timestamp x\n")  # PyYAML raises AttributeError here
    with pytest.raises(SpecError, match="invalid YAML"):
        load_deck(deck_file)


def test_deck_file_that_is_not_utf8_raises_spec_error(tmp_path):
    deck_file = tmp_path / "deck.json"
    deck_file.write_bytes(b'{"title": "\xff"}')
    with pytest.raises(SpecError, match="not UTF-8"):
        load_deck(deck_file)


# --- schema -------------------------------------------------------------------------


def test_json_schema_describes_a_deck():
    schema = deck_json_schema()

    assert schema["title"] == "Reel deck"
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"slides", "theme", "defaults", "$schema"} <= set(schema["properties"])
    assert schema["required"] == ["slides"]
    assert schema["additionalProperties"] is False
    assert "from" in schema["$defs"]["Gradient"]["properties"]  # by alias
    # the string shorthands are valid input, so editors must not flag them
    assert {"type": "string"} in schema["$defs"]["Theme"]["properties"]["background"]["anyOf"]
    json.dumps(schema)  # plain JSON all the way down


# --- properties: never anything but SpecError / AssetError --------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["title", "bullets", "image", "text", "fade", "cut", "#fff", "slides", "kind"]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["slides", "kind", "title", "duration", "theme", "transition", "bullets", "file"])
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


def _load_expecting_only_our_errors(data: object, **kwargs) -> None:
    try:
        load_deck(data, **kwargs)
    except SpecError as exc:
        assert str(exc).startswith(exc.path)
        assert "\n" not in str(exc)
    except AssetError:
        pass


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_values_raise_only_spec_or_asset_errors(data):
    _load_expecting_only_our_errors(data)


@settings(max_examples=150, deadline=None)
@given(
    st.fixed_dictionaries(
        {"slides": st.lists(json_values, max_size=4)}, optional={"theme": json_values, "defaults": json_values}
    )
)
def test_arbitrary_slides_raise_only_spec_or_asset_errors(data):
    _load_expecting_only_our_errors(data)


@pytest.fixture(scope="module")
def asset_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("assets")
    write_png(folder / "photo.png")
    return folder


def rich_deck() -> dict:
    """A valid deck using every model, the base for mutations."""
    return {
        "title": "Everything",
        "seed": 7,
        "theme": {
            "background": {"gradient": {"from": "#101010", "to": [20, 30, 40], "direction": "diagonal"}},
            "text_color": "white",
            "accent": "#f80",
        },
        "defaults": {
            "slide_duration": 4,
            "transition": {"name": "fadeblack", "duration": 0.5, "params": {"color": "#222"}},
        },
        "slides": [
            {"kind": "title", "title": "Hi", "subtitle": "there", "background": "#000"},
            {
                "kind": "bullets",
                "bullets": ["a", "b"],
                "transition": {"name": "wipeleft", "duration": 1, "params": {"softness": 0.1}},
            },
            {"kind": "image", "file": "photo.png", "fit": "contain", "caption": "c", "duration": 3},
            {
                "kind": "text",
                "text": "t",
                "style": "big",
                "background": {"image": "photo.png", "fit": "cover"},
                "transition": "cut",
            },
        ],
    }


def _slots(node: object) -> list[tuple[object, object]]:
    """Every (container, key) in `node`, recursively: the places a mutation can hit."""
    found: list[tuple[object, object]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in items:
        found.append((node, key))
        found.extend(_slots(child))
    return found


def test_rich_deck_is_valid(asset_folder):
    deck = load_deck(rich_deck(), base_dir=asset_folder)
    assert deck.total_duration() == pytest.approx(4 + 4 + 3 + 4 - 1 - 0.5)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_valid_deck_raises_only_spec_or_asset_errors(asset_folder, data):
    deck = rich_deck()
    container, key = data.draw(st.sampled_from(_slots(deck)), label="slot")
    action = data.draw(st.sampled_from(["replace", "delete", "add_key"]), label="action")
    if action == "replace":
        container[key] = data.draw(json_values, label="junk")
    elif action == "delete":
        del container[key]
    elif isinstance(container, dict):
        container[data.draw(st.text(max_size=8), label="new key")] = data.draw(json_values, label="junk")

    _load_expecting_only_our_errors(deck, base_dir=asset_folder)


@settings(max_examples=200, deadline=None)
@given(
    durations=st.lists(st.floats(0.1, 20), min_size=1, max_size=6),
    fades=st.lists(st.floats(0, 3), min_size=6, max_size=6),
)
def test_valid_timings_sum_to_total_duration_and_fit_their_slides(durations, fades):
    data = {
        "slides": [
            {"kind": "title", "title": str(i), "duration": d, "transition": {"duration": f}}
            for i, (d, f) in enumerate(zip(durations, fades))
        ]
    }
    try:
        deck = load_deck(data)
    except SpecError as exc:
        assert "transition.duration" in exc.path
        return
    timings = deck.timings()
    assert deck.total_duration() == pytest.approx(sum(t.duration - t.transition_duration for t in timings))
    for i, timing in enumerate(timings):
        outgoing = timings[i + 1].transition_duration if i + 1 < len(timings) else 0.0
        assert timing.transition_duration + outgoing <= timing.duration + 1e-9
    assert math.isfinite(deck.total_duration()) and deck.total_duration() > 0


def test_python_models_build_a_deck_without_files():
    deck = Deck(
        slides=[TitleSlide(title="A"), TextSlide(text="B", transition=TransitionSpec(name="slideleft", duration=1))]
    )
    assert deck.total_duration() == pytest.approx(9.0)
    assert copy.deepcopy(deck) == deck


def test_deck_survives_pickling_for_worker_processes(asset_folder):
    deck = load_deck(rich_deck(), base_dir=asset_folder)
    clone = pickle.loads(pickle.dumps(deck))
    assert clone == deck
    assert clone.base_dir == asset_folder
    assert clone.timings() == deck.timings()
