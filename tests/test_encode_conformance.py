"""Levels, tiers and effort per encoder (pure tables), and how a codec is chosen."""

import json

import av
import pytest

from engine import api, cli
from engine.encode import ENCODERS, EncodeSettings, codec_for, open_encoder
from engine.encode import conformance as c
from engine.errors import CodecNotSupportedError, SpecError
from engine.platforms import CODECS, PLATFORMS, QUALITIES, resolve_output, resolve_platform


@pytest.mark.parametrize(
    "size,fps,level",
    [
        ((1280, 720), 30, "3.1"),
        ((1920, 1080), 30, "4"),
        ((1080, 1920), 30, "4"),  # vertical: same macroblocks, each side within sqrt(8 × MaxFS)
        ((1920, 1080), 60, "4.2"),
        ((3840, 2160), 30, "5.1"),
        ((3840, 2160), 60, "5.2"),
        ((7680, 4320), 30, "6"),
        ((7680, 4320), 60, "6.1"),
    ],
)
def test_h264_level_from_macroblocks_per_frame_and_second(size, fps, level):
    assert c.h264_level(*size, fps) == level


def test_h264_level_rises_for_a_bitrate_or_buffer_the_lower_one_does_not_allow():
    assert c.h264_level(1920, 1080, 30, 25_000_000, 25_000_000) == "4"  # High: 1.25 × 20 Mbit/s
    assert c.h264_level(1920, 1080, 30, 26_000_000) == "4.1"
    assert c.h264_level(1920, 1080, 30, 12_000_000, 32_000_000) == "4.1"  # the VBV buffer too
    assert c.h264_level(1920, 1080, 30, 26_000_000, profile="main") == "4.1"
    with pytest.raises(CodecNotSupportedError, match="beyond H.264 level 6.2"):
        c.h264_level(8192, 8192, 120)


@pytest.mark.parametrize(
    "size,fps,rate,expected",
    [
        ((1920, 1080), 30, 0, ("4", "main")),
        ((1920, 1080), 60, 0, ("4.1", "main")),
        ((3840, 2160), 30, 0, ("5", "main")),
        ((3840, 2160), 60, 0, ("5.1", "main")),
        ((1920, 1080), 30, 12_000_000, ("4", "main")),
        ((1920, 1080), 30, 15_000_000, ("4", "high")),  # x265's rule: the tier before the level
        ((3840, 2160), 60, 67_500_000, ("5.1", "high")),
        ((1920, 1080), 30, 40_000_000, ("4.1", "high")),
    ],
)
def test_hevc_level_and_tier(size, fps, rate, expected):
    assert c.hevc_level(*size, fps, rate) == expected


def test_every_preset_has_a_level_in_both_codecs():
    for platform in PLATFORMS:
        for quality in QUALITIES:
            o = resolve_output(platform, quality)
            assert c.h264_level(o.width, o.height, o.fps, o.max_bitrate, o.buffer_size)
            assert c.hevc_level(o.width, o.height, o.fps, o.max_bitrate, o.buffer_size)


def test_draft_is_the_fastest_setting_of_every_encoder_and_effort_rises_with_quality():
    presets = [q.preset for q in QUALITIES.values()]  # draft, standard, high, maximum
    assert presets[0] == "ultrafast"
    svt = [c.SVTAV1_PRESET[p] for p in presets]
    assert svt[0] == max(c.SVTAV1_PRESET.values()) and svt == sorted(svt, reverse=True)
    nvenc = [c.NVENC_PRESET[p] for p in presets]
    assert nvenc[0] == "p1" and nvenc == sorted(nvenc)
    assert c.QSV_PRESET[presets[0]] == "veryfast"


def test_b_frames_at_most_two_and_none_where_the_preset_has_none():
    assert c.bframes("libx264", "veryfast", 2) == 2  # veryfast alone would use 3
    assert c.bframes("libx264", "ultrafast", 2) == 0
    assert c.bframes("libx265", "ultrafast", 2) == 2


def test_settings_refuse_odd_sizes_and_name_codecs_canonically():
    with pytest.raises(SpecError, match="even"):
        EncodeSettings(width=65, height=64, fps=30)
    settings = EncodeSettings.from_output(resolve_output("youtube", codec="H265"))  # the Output normalises
    assert (settings.codec, settings.profile) == ("hevc", "main")
    with pytest.raises(SpecError, match="unknown codec 'h265'"):  # the settings take canonical names only
        EncodeSettings(width=64, height=64, fps=30, codec="h265")
    assert EncodeSettings(width=64, height=64, fps=30).profile == "high"
    assert EncodeSettings(width=64, height=64, fps=30, codec="av1").profile == "main"


def test_every_encoder_writes_a_known_codec():
    assert {entry.codec for entry in ENCODERS.values()} == set(CODECS)


def test_codec_comes_from_the_request_or_the_named_encoder():
    assert codec_for("auto") is None  # the platform's own: h264
    assert codec_for("auto", "h265") == "hevc"
    assert codec_for("libsvtav1") == "av1"
    assert codec_for("libx265", "hevc") == "hevc"
    with pytest.raises(CodecNotSupportedError, match="libx265 writes hevc, not h264"):
        codec_for("libx265", "h264")
    with pytest.raises(SpecError, match="unknown codec 'mpeg2'"):
        codec_for("auto", "mpeg2")


def test_outputs_carry_their_codec_into_the_encoder_settings():
    assert resolve_output("youtube").codec == "h264"
    output = resolve_output("tiktok", "draft", codec="av1")
    assert output.codec == "av1" and output.label == "tiktok-draft"
    assert EncodeSettings.from_output(output).codec == "av1"
    assert resolve_output(resolve_platform("320x180@10", "h265")).codec == "hevc"
    assert open_encoder("auto", EncodeSettings.from_output(output)).name == "libsvtav1"


def write_deck(folder):
    deck = {
        "slides": [
            {"kind": "title", "title": "Hi", "duration": 1.0},
            {"kind": "title", "title": "Bye", "duration": 1.0},
        ]
    }
    path = folder / "deck.json"
    path.write_text(json.dumps(deck))
    return path


def test_cli_renders_hevc_with_codec_and_av1_with_a_named_encoder(tmp_path):
    deck = write_deck(tmp_path)
    for name, choice, codec, encoder in (
        ("a.mp4", ["--codec", "h265"], "hevc", "libx265"),
        ("b.mp4", ["--encoder", "libsvtav1"], "av1", "libsvtav1"),
    ):
        report = tmp_path / f"{name}.json"
        args = [
            "render",
            str(deck),
            "-p",
            "160x96@10",
            *choice,
            "-o",
            str(tmp_path / name),
            "--report",
            str(report),
            "-q",
        ]
        assert cli.main(args) == 0
        written = json.loads(report.read_text())["outputs"][0]
        assert written["encoder"] == encoder
        with av.open(str(tmp_path / name)) as container:
            stream = container.streams.video[0]
            assert stream.codec.canonical_name == codec
            assert sum(1 for _ in container.decode(stream)) == written["frames"] > 0


def test_cli_refuses_a_codec_the_named_encoder_does_not_write(tmp_path, capsys):
    args = [
        "render",
        str(write_deck(tmp_path)),
        "-p",
        "160x96@10",
        "--codec",
        "av1",
        "--encoder",
        "libx264",
        "-o",
        str(tmp_path),
    ]
    assert cli.main(args) == 2
    assert "libx264 writes h264, not av1" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.mp4"))


def test_api_render_takes_a_codec(tmp_path):
    report = api.render(write_deck(tmp_path), tmp_path / "c.mp4", platform="160x96@10", codec="hevc")
    assert report.encoder == "libx265"
