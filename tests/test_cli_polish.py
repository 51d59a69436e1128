"""The command line's finish: every deck error at once, `reel validate`, names and paths,
progress without a terminal, the report's provenance, colours, numbers, completion."""

from __future__ import annotations

import json

import pytest

from engine import cli

from .test_cli import write_deck


def bad_deck(folder):
    """A deck with three mistakes on three slides."""
    path = folder / "bad.json"
    slides = [
        {"kind": "title", "title": "", "duration": 1},
        {"kind": "title", "title": "Two", "duration": -1},
        {"kind": "bullets", "title": "Three", "bullets": ["a"], "duration": 1, "titel": "x"},
    ]
    path.write_text(json.dumps({"slides": slides}))
    return path


# ---------------------------------------------------------------------------------
# 1. Errors


def test_every_deck_error_is_printed_on_its_own_line_with_its_path(tmp_path, capsys):
    code = cli.main(["render", str(bad_deck(tmp_path)), "-o", str(tmp_path / "out"), "-q"])
    lines = capsys.readouterr().err.splitlines()
    assert code == 2
    assert lines == [
        "reel: error: slides[0].title: must not be empty",
        "reel: error: slides[1].duration: must be > 0, got -1",
        "reel: error: slides[2].titel: unknown key; did you mean 'title'?",
    ]
    assert not (tmp_path / "out").exists()


def test_validate_says_ok_with_slides_and_seconds_and_exits_0(tmp_path, capsys):
    code = cli.main(["validate", str(write_deck(tmp_path))])
    out = capsys.readouterr()
    assert code == 0
    assert out.out == "ok: 2 slide(s), 2.5 s\n" and out.err == ""


def test_validate_lists_every_error_and_exits_2_writing_nothing(tmp_path, capsys):
    code = cli.main(["validate", str(bad_deck(tmp_path))])
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert len(out.err.splitlines()) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_a_single_error_is_still_one_line(tmp_path, capsys):
    deck = write_deck(tmp_path, slides=[{"kind": "title", "title": "x", "duration": 0}])
    assert cli.main(["validate", str(deck)]) == 2
    assert capsys.readouterr().err == "reel: error: slides[0].duration: must be > 0, got 0\n"


# ---------------------------------------------------------------------------------
# 2. Names and paths


def test_an_unknown_platform_gets_a_did_you_mean(tmp_path, capsys):
    code = cli.main(["render", str(write_deck(tmp_path)), "-p", "tiktk", "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("reel: error: platform: unknown platform 'tiktk'; did you mean 'tiktok'? use one of ")
    assert len(err.splitlines()) == 1


def test_an_output_named_for_an_unsupported_format_is_an_error_not_a_folder(tmp_path, capsys):
    out = tmp_path / "x.mov"
    code = cli.main(["render", str(write_deck(tmp_path)), "-p", "64x36@5", "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"reel: error: out: {out}: Reel writes .mp4, .webm (--format webm) or .gif (--format gif), not .mov; "
        "name it x.mp4, or give a folder\n"
    )
    assert not out.exists()


def test_a_gif_name_with_format_gif_is_still_a_file(tmp_path):
    from engine.api import output_path
    from engine.platforms import resolve_output

    assert output_path(tmp_path / "a.gif", "deck", resolve_output("64x36"), "gif") == tmp_path / "a.gif"


def test_render_dash_reads_the_deck_from_stdin_with_assets_beside_the_current_folder(tmp_path, monkeypatch, capsys):
    import io

    from PIL import Image

    from .helpers import probe

    Image.new("RGB", (32, 18), (200, 30, 30)).save(tmp_path / "red.png")
    deck = {"title": "Piped", "slides": [{"kind": "image", "file": "red.png", "fit": "fill", "duration": 1}]}
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(json.dumps(deck).encode())))
    code = cli.main(["render", "-", "-p", "64x36@10", "-o", "out", "-q"])
    assert code == 0, capsys.readouterr().err
    (video,) = (tmp_path / "out").iterdir()
    assert video.name == "stdin-64x36@10.mp4"
    assert probe(video).frames == 10


def test_the_file_name_says_the_size_and_fps_written(tmp_path, capsys):
    from .helpers import probe

    code = cli.main(
        ["render", str(write_deck(tmp_path)), "-p", "128x72@20", "--quality", "draft", "-o", str(tmp_path / "o"), "-q"]
    )
    assert code == 0, capsys.readouterr().err
    (video,) = (tmp_path / "o").iterdir()
    assert video.name == "deck-64x36@15-draft.mp4"
    info = probe(video)
    assert (info.width, info.height) == (64, 36)


def test_preset_labels_keep_their_names():
    from engine.platforms import resolve_output

    assert resolve_output("youtube", "draft").label == "youtube-draft"
    assert resolve_output("youtube").label == "youtube"
    assert resolve_output("640x360@24").label == "640x360@24"
    assert resolve_output("640x360", "maximum").label == "640x360@60-maximum"


def test_a_deck_with_very_many_errors_lists_fifty_and_counts_the_rest(tmp_path, capsys):
    deck = write_deck(tmp_path, slides=[{"kind": "title", "title": "", "duration": 1}] * 60)
    assert cli.main(["validate", str(deck)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 51
    assert lines[49] == "reel: error: slides[49].title: must not be empty"
    assert lines[50] == "reel: error: … and 10 more errors"


# ---------------------------------------------------------------------------------
# 3. Progress


def test_without_a_terminal_a_render_says_each_tenth_with_fps_and_time_left(tmp_path, capsys):
    deck = write_deck(tmp_path)
    assert cli.main(["render", str(deck), "-p", "64x36@10", "-o", str(tmp_path / "o")]) == 0
    lines = capsys.readouterr().err.splitlines()
    percents = [int(line.split()[2].rstrip("%")) for line in lines]
    # A line each time another tenth is passed (a hold passes several at once).
    assert percents == sorted(set(percents)) and all(p % 10 == 0 for p in percents) and percents[-1] == 100
    assert all(line.startswith("reel: 64x36@10: ") for line in lines)
    assert lines[-1].startswith("reel: 64x36@10: 100% 25/25 frames, ") and lines[-1].endswith(" fps, 0 s left")


def test_progress_json_gives_one_object_a_line_for_wrappers(tmp_path, capsys):
    deck = write_deck(tmp_path)
    code = cli.main(["render", str(deck), "-p", "64x36@10", "-o", str(tmp_path / "o"), "-q", "--progress", "json"])
    captured = capsys.readouterr()
    assert code == 0 and captured.out == ""  # -q: no summary, but the asked-for progress
    events = [json.loads(line) for line in captured.err.splitlines()]
    assert events and set(events[0]) == {"output", "frames_done", "frames_total", "fps", "eta_s"}
    assert {e["output"] for e in events} == {"64x36@10"} and {e["frames_total"] for e in events} == {25}
    assert events[-1]["frames_done"] == 25 and events[-1]["eta_s"] == 0
    done = [e["frames_done"] for e in events]
    assert done == sorted(done)


# ---------------------------------------------------------------------------------
# 4. The report


def test_the_report_says_version_deck_hash_profile_level_and_when(tmp_path, capsys):
    import datetime

    from engine import __version__

    deck = write_deck(tmp_path)
    report_file = tmp_path / "r.json"
    args = ["render", str(deck), "-p", "64x36@10", "-o", str(tmp_path / "o"), "-q", "--report", str(report_file)]
    assert cli.main(args) == 0
    (report,) = json.loads(report_file.read_text())["outputs"]
    assert report["reel_version"] == __version__
    assert len(report["deck_sha256"]) == 64 and int(report["deck_sha256"], 16) >= 0
    assert (report["profile"], report["level"]) == ("High", "1.3")  # x264 picks 1.3 for the 500 kbit/s cap
    made = datetime.datetime.strptime(report["created_utc"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    assert abs((datetime.datetime.now(datetime.UTC) - made).total_seconds()) < 600

    # The same deck rendered again hashes the same; a changed deck does not.
    again = tmp_path / "r2.json"
    assert cli.main(args[:-1] + [str(again)]) == 0
    assert json.loads(again.read_text())["outputs"][0]["deck_sha256"] == report["deck_sha256"]
    write_deck(tmp_path, title="Another title")
    assert cli.main(args[:-1] + [str(again)]) == 0
    assert json.loads(again.read_text())["outputs"][0]["deck_sha256"] != report["deck_sha256"]


def test_a_lossless_psnr_is_null_in_json_and_old_inf_reports_still_read():
    import math

    from engine.report import RenderReport

    report = RenderReport("a.mp4", "p", "standard", 2, 2, 1, 1, 1.0, "cpu", "numpy", "libx264", 1.0, psnr_db=math.inf)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["psnr_db"] is None and data["psnr_lossless"] is True
    assert RenderReport.from_dict(data).psnr_db == math.inf
    assert RenderReport.from_dict({**data, "psnr_db": "inf", "psnr_lossless": None}).psnr_db == math.inf
    lossy = RenderReport.from_dict({**data, "psnr_db": 41.5, "psnr_lossless": False})
    assert lossy.psnr_db == 41.5 and lossy.to_dict()["psnr_lossless"] is False


def test_profile_and_level_are_read_back_for_hevc_and_gif_has_none(tmp_path):
    from engine.api import render
    from engine.report import written_profile

    deck = write_deck(tmp_path)
    hevc = render(deck, tmp_path / "h.mp4", platform="64x36@10", codec="hevc")
    assert (hevc.profile, hevc.level) == ("Main", "2")
    gif = render(deck, tmp_path / "g.gif", platform="64x36@10", format="gif")
    assert (gif.profile, gif.level) == (None, None)
    assert written_profile(tmp_path / "missing.mp4") == {"profile": None, "level": None}


# ---------------------------------------------------------------------------------
# 5. Drafts


def test_draft_caps_the_fps_at_15_and_never_raises_it():
    from engine.platforms import resolve_output

    assert resolve_output("tiktok", "draft").fps == 15
    assert resolve_output("320x180@60", "draft").fps == 15
    slow = resolve_output("320x180@10", "draft")
    assert (slow.width, slow.height, slow.fps, slow.gop) == (160, 90, 10, 20)
    assert slow.label == "160x90@10-draft"


def test_a_draft_is_h264_constrained_baseline_as_the_readme_says(tmp_path):
    from pathlib import Path

    from engine.api import render

    report = render(write_deck(tmp_path), tmp_path / "d.mp4", platform="128x72@10", quality="draft")
    assert report.profile == "Constrained Baseline" and report.fps == 10
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert "`draft` (half size, at most 15 fps, x264 ultrafast: H.264 Constrained Baseline" in readme


# ---------------------------------------------------------------------------------
# 6. Colours


@pytest.mark.parametrize(
    ("written", "rgb"),
    [
        ("rebeccapurple", (102, 51, 153)),
        ("Navy", (0, 0, 128)),
        ("rgb(10, 20, 30)", (10, 20, 30)),
        ("hsl(120, 100%, 25%)", (0, 128, 0)),
        ("#112233ff", (17, 34, 51)),
        ("#abc", (170, 187, 204)),
        ([1, 2, 3], (1, 2, 3)),
    ],
)
def test_colours_are_read_as_css_writes_them(written, rgb):
    from engine.colour import parse_colour

    assert parse_colour(written) == rgb


def test_a_translucent_colour_is_refused_saying_why(tmp_path, capsys):
    deck = write_deck(tmp_path, theme={"accent": "#ff000080"})
    assert cli.main(["validate", str(deck)]) == 2
    assert capsys.readouterr().err == (
        "reel: error: theme.accent: '#ff000080' has alpha 128, but this colour cannot be transparent; "
        "use an opaque colour (alpha 255, or no alpha)\n"
    )


def test_a_css_colour_background_is_what_the_frame_shows_and_the_schema_accepts(tmp_path):
    import jsonschema

    from engine.api import render_frame
    from engine.spec import deck_json_schema

    data = {"slides": [{"kind": "title", "title": "x", "duration": 1, "background": "hsl(210, 100%, 40%)"}]}
    jsonschema.validate(data, deck_json_schema())
    frame = render_frame(data, 0.5, platform="64x36")
    assert abs(frame[1, 1].astype(int) - (0, 102, 204)).max() <= 3  # a corner, away from the text


# ---------------------------------------------------------------------------------
# 7. Numbers


@pytest.mark.parametrize(
    ("language", "full", "compact", "negative"),
    [
        (None, "1,234,567.5 kcal", "1.23M", "−$1,250"),  # English without a language
        ("en", "1,234,567.5 kcal", "1.23M", "−$1,250"),
        ("de", "1.234.567,5 kcal", "1,23\xa0Mio.", "−$1.250"),
        ("fr", "1\u202f234\u202f567,5 kcal", "1,23\xa0M", "−$1\u202f250"),
        ("hi", "12,34,567.5 kcal", "12.35\xa0लाख", "−$1,250"),
        ("xx-nope", "1,234,567.5 kcal", "1.23M", "−$1,250"),  # a tag Babel does not know: English
    ],
)
def test_chart_numbers_follow_the_theme_language(language, full, compact, negative):
    from engine.charts.format import format_number, format_value

    assert format_value(1_234_567.5, "kcal", 1, language=language) == full
    assert format_number(1_234_567, compact=True, language=language) == compact
    assert format_value(-1250, "$", language=language) == negative
    assert format_value(-0.001, "%", 1, language=language).startswith("0")  # never "−0"


def test_a_chart_on_a_german_deck_labels_its_bars_in_german():
    from dataclasses import replace

    from engine.charts import draw_chart, parse_chart

    from .test_charts import FONTS

    chart = parse_chart({"type": "bar", "labels": ["Mo", "Di"], "values": [1850.5, 2100.25], "unit": "kcal"})
    german = replace(FONTS, options=replace(FONTS.options, language="de"))
    assert draw_chart(chart, 480, 270, fonts=german, text_rgb=(255, 255, 255)).texts.values == ("1.850,5", "2.100,25")
    english = draw_chart(chart, 480, 270, fonts=FONTS, text_rgb=(255, 255, 255)).texts.values
    assert english == ("1,850.5", "2,100.25")


# ---------------------------------------------------------------------------------
# 8. Shell completion


def _bash_complete(script: str, *words: str) -> list[str]:
    """What bash offers for the last of `words` with `script` (reel completion bash) loaded."""
    import shutil
    import subprocess

    if shutil.which("bash") is None:
        pytest.skip("no bash here")
    line = " ".join(words)
    program = (
        f"source /dev/stdin <<'REEL'\n{script}\nREEL\n"
        f"COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; COMP_LINE='{line}'; COMP_POINT={len(line)}\n"
        f'_shtab_reel reel {words[-1]} {words[-2]}; printf "%s\\n" "${{COMPREPLY[@]}}"\n'
    )
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True, timeout=30)
    return done.stdout.split()


def test_bash_completion_offers_commands_platforms_and_transitions(capsys):
    assert cli.main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert _bash_complete(script, "reel", "val") == ["validate"]
    assert _bash_complete(script, "reel", "render", "-p", "tik") == ["tiktok"]
    assert _bash_complete(script, "reel", "render", "--platform", "instagram_s") == ["instagram_stories"]
    assert _bash_complete(script, "reel", "transitions", "wipel") == ["wipeleft"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_name_the_platforms_and_transitions(shell, capsys):
    assert cli.main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "instagram_portrait" in script and "wipediagonal" in script and "validate" in script


def test_a_custom_size_still_passes_where_names_complete(tmp_path, capsys):
    from engine.cli import _parser

    assert _parser().parse_args(["render", "d.json", "-p", "320x180@10"]).platforms == ["320x180@10"]
    assert cli.main(["transitions", "wipelft"]) == 2
    assert "did you mean 'wipeleft'?" in capsys.readouterr().err
