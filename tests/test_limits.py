"""Input limits: each hostile deck or file is a one-line error naming its setting, at once.

Every hostile input is small and made here (a 400-byte alias bomb, a PNG header
claiming 10¹⁰ pixels, a 288 kB WAV that lasts ten hours at 8 Hz); each refusal is
timed against a bound far below what expanding, decoding or backtracking would take.
"""

from __future__ import annotations

import json
import re
import struct
import time
import warnings
import wave
import zlib
from dataclasses import fields
from pathlib import Path

import pytest
from PIL import Image

from engine import cli
from engine.errors import AssetError, SpecError, excerpt
from engine.limits import InputLimits, setting_name
from engine.raster.background import open_image
from engine.settings import Settings, load_settings
from engine.spec import load_deck
from engine.usershader import parse_uniforms, read_user_transition

ROOT = Path(__file__).resolve().parents[1]
BOUND_S = 1.0  # each refusal takes milliseconds; what they replace took minutes or never ended

TRANSITION = "vec4 transition(vec2 uv) { return mix(getFromColor(uv), getToColor(uv), progress); }\n"


def slides(*titles: str) -> list[dict]:
    return [{"kind": "title", "title": t, "duration": 1} for t in titles]


def quickly(error: type[Exception], call, *args, **kwargs) -> str:
    """The one-line message of the `error` that `call` raises within BOUND_S."""
    start = time.perf_counter()
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    elapsed = time.perf_counter() - start
    message = str(caught.value)
    assert elapsed < BOUND_S, f"took {elapsed:.2f} s: {message[:200]}"
    assert "\n" not in message and len(message) < 400, message[:400]
    return message


def cli_error(capsys, deck_file: Path, tmp_path: Path) -> str:
    """Render `deck_file` with the CLI: exit 2, one line on stderr, nothing written."""
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    start = time.perf_counter()
    code = cli.main(["render", str(deck_file), "-p", "64x36@5", "-o", str(out), "-q"])
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("reel: error: ") and "Traceback" not in err
    assert elapsed < 5 * BOUND_S and list(out.iterdir()) == []
    return err.strip()


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs" in YAML as a lumawipe's matte: `levels` lists of `width`
    aliases of the list before, the last standing for `width` ** `levels` strings."""
    lists = ["&a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        lists.append(f"&a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    matte = "[" + ", ".join(lists) + "]"
    return (
        "slides:\n"
        "  - {kind: title, title: A, duration: 1}\n"
        f"  - {{kind: title, title: B, duration: 1, transition: {{name: lumawipe, params: {{matte: {matte}}}}}}}\n"
    )


# ---------------------------------------------------------------------------------
# Settings


def test_every_limit_is_a_setting_with_the_same_default_and_a_reel_max_name():
    defaults = InputLimits()
    for field in fields(InputLimits):
        info = Settings.model_fields[field.name]
        assert info.alias == setting_name(field.name) == "REEL_" + field.name.upper()
        assert info.default == getattr(defaults, field.name)
    assert Settings().input_limits == defaults


def test_limits_come_from_the_environment():
    limits = load_settings({"REEL_MAX_SLIDES": "3", "REEL_MAX_AUDIO_SECONDS": "2.5"}).input_limits
    assert (limits.max_slides, limits.max_audio_seconds) == (3, 2.5)


def test_the_readme_documents_every_limit():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for field in fields(InputLimits):
        assert setting_name(field.name) in readme, setting_name(field.name)


def test_image_pixels_cannot_be_set_past_pillows_own_bomb_threshold():
    from engine.errors import SettingsError

    assert Settings(max_image_pixels=Image.MAX_IMAGE_PIXELS).max_image_pixels == Image.MAX_IMAGE_PIXELS
    with pytest.raises(SettingsError, match="REEL_MAX_IMAGE_PIXELS"):
        load_settings({"REEL_MAX_IMAGE_PIXELS": str(Image.MAX_IMAGE_PIXELS + 1)})


# ---------------------------------------------------------------------------------
# YAML aliases, values, nesting


def test_a_billion_laughs_deck_is_refused_before_it_expands(tmp_path):
    deck = tmp_path / "bomb.yaml"
    deck.write_text(alias_bomb())
    assert deck.stat().st_size < 1000
    message = quickly(SpecError, load_deck, deck)
    assert re.match(rf"^{re.escape(str(deck))}:\d+:\d+: the deck holds more than 100,000 values", message)
    assert message.endswith("(REEL_MAX_DECK_VALUES)")


def test_a_billion_laughs_deck_on_the_command_line(tmp_path, capsys):
    deck = tmp_path / "bomb.yaml"
    deck.write_text(alias_bomb())
    assert "REEL_MAX_DECK_VALUES" in cli_error(capsys, deck, tmp_path)


def test_a_smaller_alias_bomb_under_the_limit_gets_a_short_message(tmp_path):
    # About 9⁵ = 59,049 values pass the count, then fail as a matte: the message quotes a few dozen.
    deck = tmp_path / "bomb.yaml"
    deck.write_text(alias_bomb(levels=5))
    assert "REEL_MAX_SLIDE_CHARS" in quickly(SpecError, load_deck, deck)  # 3 × 59,049 characters of "lol"
    message = quickly(SpecError, load_deck, deck, limits=InputLimits(max_slide_chars=10**9))
    assert message.startswith("slides[1].transition.params.matte: must be a bundled matte")
    assert len(message) < 200


def test_aliases_within_the_limit_still_load(tmp_path):
    deck = tmp_path / "deck.yaml"
    deck.write_text(
        "t: &t {name: fade, duration: 0.5}\nslides:\n  - {kind: title, title: A}\n  - {kind: title, title: B, transition: *t}\n".replace(
            "t: &t", "defaults: {transition: &t"
        ).replace("0.5}\n", "0.5}}\n", 1)
    )
    assert load_deck(deck).slides[1].transition.duration == 0.5


def test_a_yaml_alias_inside_its_own_anchor_is_refused(tmp_path):
    deck = tmp_path / "loop.yaml"
    deck.write_text("slides: &s [*s]\n")
    message = quickly(SpecError, load_deck, deck)
    assert message.startswith(f"{deck}:1:") and "refers to itself" in message


def test_values_are_counted_in_python_decks_too_with_shared_lists():
    shared: object = ["lol"] * 10
    for _ in range(8):
        shared = [shared] * 10  # 10⁹ values, a few hundred objects
    deck = {"slides": slides("A", "B"), "title": "x"}
    deck["slides"][1]["transition"] = {"name": "fade", "params": {"x": shared}}
    message = quickly(SpecError, load_deck, deck)
    assert message.startswith("slides: the deck holds more than 100,000 values") and "REEL_MAX_DECK_VALUES" in message


def test_deep_nesting_and_self_reference_are_refused():
    nested: dict = {}
    inner = nested
    for _ in range(200):
        inner["x"] = {}
        inner = inner["x"]
    message = quickly(SpecError, load_deck, {"slides": slides("A"), "cover": nested})
    assert "nested more than 64 levels deep" in message
    loop: list = []
    loop.append(loop)
    message = quickly(SpecError, load_deck, {"slides": slides("A"), "title": loop})
    assert "refers to itself" in message


def test_max_deck_values_is_the_setting(tmp_path):
    deck = {"slides": slides(*"ABCDEFGHIJ")}
    load_deck(deck, limits=InputLimits(max_deck_values=200))
    message = quickly(SpecError, load_deck, deck, limits=InputLimits(max_deck_values=30))
    assert (
        message == "slides: the deck holds more than 30 values (each use of a YAML alias counts) (REEL_MAX_DECK_VALUES)"
    )


# ---------------------------------------------------------------------------------
# Sizes: the deck file, strings, slides


def test_a_deck_file_past_max_deck_bytes_is_refused_before_it_is_read(tmp_path):
    deck = tmp_path / "deck.json"
    deck.write_text(json.dumps({"slides": slides("A")}) + " " * 500)
    message = quickly(AssetError, load_deck, deck, limits=InputLimits(max_deck_bytes=100))
    assert (
        message
        == f"deck file is {deck.stat().st_size} bytes, more than the 100 bytes REEL_MAX_DECK_BYTES allows: {deck}"
    )


def test_max_deck_bytes_from_the_environment_on_the_command_line(tmp_path, capsys, monkeypatch):
    deck = tmp_path / "deck.json"
    deck.write_text(json.dumps({"slides": slides("A")}))
    monkeypatch.setenv("REEL_MAX_DECK_BYTES", "10")
    assert "REEL_MAX_DECK_BYTES" in cli_error(capsys, deck, tmp_path)


@pytest.mark.parametrize("field", ["title", "subtitle"])
def test_a_megabyte_string_is_refused_with_its_path(tmp_path, capsys, field):
    slide = {"kind": "title", "title": "A", "duration": 1, field: "x" * 1_000_000}
    message = quickly(SpecError, load_deck, {"slides": [slide]})
    assert message == f"slides[0].{field}: a string of 1,000,000 characters; at most 10,000 (REEL_MAX_STRING_CHARS)"
    deck = tmp_path / "deck.yaml"
    deck.write_text(f"slides:\n  - {{kind: title, title: A, {field}: {'y' * 1_000_000}}}\n")
    assert "REEL_MAX_STRING_CHARS" in cli_error(capsys, deck, tmp_path)


def test_a_huge_key_is_refused_and_not_echoed():
    message = quickly(SpecError, load_deck, {"slides": slides("A"), "k" * 100_000: 1})
    assert "a key of 100,000 characters" in message and len(message) < 200


def test_a_slide_whose_strings_add_up_past_max_slide_chars(tmp_path):
    bullets = {"kind": "bullets", "title": "T", "bullets": ["b" * 5000] * 5, "duration": 1}
    message = quickly(SpecError, load_deck, {"slides": [bullets]})
    text = len("bullets") + len("T") + 5 * 5000
    assert message == f"slides[0]: holds {text:,} characters of text; at most 20,000 (REEL_MAX_SLIDE_CHARS)"
    load_deck({"slides": [bullets]}, limits=InputLimits(max_slide_chars=30_000))


def test_slides_per_deck_is_the_setting(tmp_path, capsys, monkeypatch):
    message = quickly(SpecError, load_deck, {"slides": slides(*"ABCD")}, limits=InputLimits(max_slides=3))
    assert message == "slides: allows at most 3 slides, got 4 (REEL_MAX_SLIDES)"
    deck = tmp_path / "deck.json"
    deck.write_text(json.dumps({"slides": slides("A", "B")}))
    monkeypatch.setenv("REEL_MAX_SLIDES", "1")
    assert cli_error(capsys, deck, tmp_path).endswith("slides: allows at most 1 slides, got 2 (REEL_MAX_SLIDES)")


def test_a_schema_key_that_is_not_a_string_is_a_spec_error(tmp_path, capsys):
    message = quickly(SpecError, load_deck, {"$schema": 42, "slides": slides("A")})
    assert message == "$schema: must be a string, got 42"
    deck = tmp_path / "deck.json"
    deck.write_text(json.dumps({"$schema": 42, "slides": slides("A")}))
    assert cli_error(capsys, deck, tmp_path) == "reel: error: $schema: must be a string, got 42"


# ---------------------------------------------------------------------------------
# Messages never echo big values


def test_excerpt_shortens_without_formatting_the_whole_value():
    assert excerpt("mauve") == "'mauve'" and excerpt([0, 0, 256]) == "[0, 0, 256]"
    assert excerpt("x" * 10_000_000) == "'" + "x" * 36 + "..."
    bomb: object = ["lol"] * 9
    for _ in range(9):
        bomb = [bomb] * 9
    start = time.perf_counter()
    text = excerpt(bomb)  # (repr would format 9¹⁰ strings: hours)
    assert time.perf_counter() - start < BOUND_S and len(text) == 40 and text.startswith("[[[[[[[[[[")
    assert excerpt(10**100_000) == "<an integer of about 100000 digits>"
    assert excerpt(object()) == "<object>"


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("theme.accent", "#" + "f" * 9_000),
        ("theme.text_color", [1] * 5_000),
        ("slides[1].transition.params.color", "x" * 9_000),
        ("slides[1].transition.params.softness", ["x" * 9_000] * 2),
    ],
)
def test_a_rejected_value_is_quoted_in_a_few_dozen_characters(where, value):
    deck = {"slides": slides("A", "B")}
    if where.startswith("theme"):
        deck["theme"] = {where.split(".")[1]: value}
    else:
        name = "fadeblack" if where.endswith("color") else "wipeleft"
        deck["slides"][1]["transition"] = {"name": name, "params": {where.rsplit(".", 1)[1]: value}}
    message = quickly(SpecError, load_deck, deck)
    assert message.startswith(where) and len(message) < 200


# ---------------------------------------------------------------------------------
# Images


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width` × `height` pixels and holds almost nothing."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def image_deck(file: Path) -> dict:
    return {"slides": [{"kind": "image", "file": str(file), "duration": 1}]}


@pytest.mark.parametrize("side", [10_000, 100_000])  # Pillow warns past 89 M pixels, raises past 179 M
def test_a_decompression_bomb_is_an_asset_error_not_a_warning(tmp_path, side):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(side, side))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning would fail here
        message = quickly(AssetError, load_deck, image_deck(bomb))
        assert message.startswith("slides[0].file: image is ") and "REEL_MAX_IMAGE_PIXELS" in message
        message = quickly(AssetError, open_image, bomb)  # at render time too
        assert "decompression bomb" in message


def test_image_pixels_and_bytes_are_settings(tmp_path, capsys, monkeypatch):
    picture = tmp_path / "p.png"
    Image.new("RGB", (100, 60), (9, 9, 9)).save(picture)
    message = quickly(AssetError, load_deck, image_deck(picture), limits=InputLimits(max_image_pixels=5_000))
    assert (
        message
        == f"slides[0].file: image is 100×60 = 6,000 pixels, more than the 5,000 REEL_MAX_IMAGE_PIXELS allows: {picture}"
    )
    message = quickly(AssetError, load_deck, image_deck(picture), limits=InputLimits(max_image_bytes=50))
    assert "REEL_MAX_IMAGE_BYTES" in message and message.startswith("slides[0].file: image is ")
    deck = tmp_path / "deck.json"
    deck.write_text(json.dumps(image_deck(picture)))
    monkeypatch.setenv("REEL_MAX_IMAGE_PIXELS", "100")
    assert "REEL_MAX_IMAGE_PIXELS" in cli_error(capsys, deck, tmp_path)


def test_a_file_that_is_not_an_image_is_refused_at_load_without_quoting_it(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_text("SECRET-TOKEN 1234\n")
    message = quickly(AssetError, load_deck, image_deck(secret))
    assert message == f"slides[0].file: image is not an image Pillow can read: {secret}"


# ---------------------------------------------------------------------------------
# Audio


def long_wav(path: Path, hours: float, rate: int = 8) -> Path:
    """A real WAV of `hours` hours: at 8 samples a second, ten hours is 288 kB."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(b"\x80" * int(hours * 3600 * rate))
    return path


def test_a_ten_hour_voiceover_with_auto_duration_is_refused_from_its_header(tmp_path, capsys):
    voice = long_wav(tmp_path / "voice.wav", 10)
    deck = {"slides": [{"kind": "title", "title": "A", "duration": "auto", "voiceover": str(voice)}]}
    message = quickly(AssetError, load_deck, deck)
    assert message == (
        f"slides[0].voiceover: audio file {voice} is 10 h 0 min long, more than the 3600 s REEL_MAX_AUDIO_SECONDS allows"
    )
    deck_file = tmp_path / "deck.json"
    deck_file.write_text(json.dumps(deck))
    assert "REEL_MAX_AUDIO_SECONDS" in cli_error(capsys, deck_file, tmp_path)


def test_long_music_and_voiceovers_without_auto_are_refused_too(tmp_path):
    music = long_wav(tmp_path / "music.wav", 10)
    message = quickly(AssetError, load_deck, {"audio": {"music": str(music)}, "slides": slides("A")})
    assert message.startswith("audio.music: audio file") and "REEL_MAX_AUDIO_SECONDS" in message
    voice = long_wav(tmp_path / "voice.wav", 0.008, rate=8000)  # 28.8 s
    deck = {"slides": [{"kind": "title", "title": "A", "duration": 1, "voiceover": str(voice)}]}
    load_deck(deck)
    message = quickly(AssetError, load_deck, deck, limits=InputLimits(max_audio_seconds=10))
    assert message.startswith("slides[0].voiceover.file: audio file") and "28.8 s long, more than the 10 s" in message


def test_a_header_that_says_nothing_is_checked_while_decoding(tmp_path, monkeypatch):
    from engine.audio import decode

    voice = long_wav(tmp_path / "voice.wav", 0.008, rate=8000)  # 28.8 s
    monkeypatch.setattr(decode._Source, "header_seconds", lambda self: None)
    message = quickly(AssetError, decode.voiceover_duration, voice, "vo", 2.0)
    assert "REEL_MAX_AUDIO_SECONDS" in message and "more than the 2 s" in message
    assert decode.voiceover_duration(voice, "vo", 60.0) == pytest.approx(28.8)


# ---------------------------------------------------------------------------------
# GLSL


def test_a_shader_file_past_max_shader_bytes_is_refused(tmp_path):
    shader = tmp_path / "t.glsl"
    shader.write_text(TRANSITION + "// padding\n" * 100)
    message = quickly(AssetError, read_user_transition, shader, 500)
    assert message.startswith("transition file is ") and "REEL_MAX_SHADER_BYTES" in message
    deck = {"slides": slides("A", "B")}
    deck["slides"][1]["transition"] = {"file": str(shader), "duration": 0.5}
    message = quickly(AssetError, load_deck, deck, limits=InputLimits(max_shader_bytes=500))
    assert message.startswith("slides[1].transition.file: transition file is ") and "REEL_MAX_SHADER_BYTES" in message


@pytest.mark.parametrize(
    "source",
    [
        "uniform float a\n" * 60_000,  # no ";": the old statement regex backtracked for minutes
        "uniform float a\n" * 60_000 + ";\n",
        "uniform float x; // = a" + " " * 60_000 + "b\n",
        "uniform float x /* = 1" + " " * 60_000 + "x;\n",
        "uniform float x; // = " + "1" * 60_000 + "x\n",
        "\n" * 200_000 + "uniform float x;\n",
        "  \n" * 100_000 + "// = 1\n",
    ],
    ids=[
        "no-semicolon",
        "one-semicolon",
        "trailing-spaces",
        "inline-spaces",
        "digits",
        "blank-lines",
        "indented-blank-lines",
    ],
)
def test_the_uniform_parser_is_linear_on_hostile_text(source):
    start = time.perf_counter()
    try:
        parse_uniforms(source, "hostile.glsl")
    except SpecError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 300
    assert time.perf_counter() - start < BOUND_S


def test_sixty_thousand_unterminated_uniforms_through_the_deck(tmp_path):
    shader = tmp_path / "hostile.glsl"
    shader.write_text(TRANSITION + "uniform float a\n" * 60_000)
    deck = {"slides": slides("A", "B")}
    deck["slides"][1]["transition"] = {"file": str(shader), "duration": 0.5}
    start = time.perf_counter()
    loaded = load_deck(deck, limits=InputLimits(max_shader_bytes=2_000_000))
    assert time.perf_counter() - start < BOUND_S
    assert loaded.slides[1].transition.resolved_params() == {}  # the compiler will report the missing ";"
    message = quickly(AssetError, load_deck, deck)  # and past the default size, refused before reading
    assert "REEL_MAX_SHADER_BYTES" in message


def test_a_yaml_binary_value_is_not_text(tmp_path):
    deck = tmp_path / "deck.yaml"
    deck.write_text("slides:\n  - kind: title\n    title: !!binary aGVsbG8=\n")
    with pytest.raises(SpecError, match=r"slides\[0\]\.title: must be text, not binary data"):
        load_deck(deck)


def test_a_deck_that_is_not_an_object_is_named_by_its_type_never_quoted(tmp_path):
    deck = tmp_path / "passwd.json"
    deck.write_text('"root:x:0:0:root:/root:/bin/bash"')
    with pytest.raises(SpecError) as caught:
        load_deck(deck)
    assert "root:x" not in str(caught.value) and str(caught.value).endswith("got text")


def test_a_fallback_font_of_random_bytes_is_refused_when_the_deck_loads(tmp_path):
    font = tmp_path / "random.ttf"
    font.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(AssetError, match=r"theme\.fallback_fonts\[0\]: not a TrueType or OpenType font file"):
        load_deck({"theme": {"fallback_fonts": [str(font)]}, "slides": [{"kind": "title", "title": "x"}]})


def test_a_path_of_thousands_of_characters_is_elided_in_the_message(tmp_path):
    path = "/" + "/".join(["a"] * 2000) + "/plate.png"
    with pytest.raises(AssetError) as caught:
        load_deck({"slides": [{"kind": "image", "file": path}]})
    assert len(str(caught.value)) < 300 and "…" in str(caught.value)
