"""Captions (engine/captions.py, engine/caption_burn.py): SRT and WebVTT read and written,
word timings, burned-in cues placed in the safe area, karaoke, sidecars and the soft track."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from engine.caption_burn import CaptionOverlay
from engine.captions import (
    Cue,
    Word,
    attach_words,
    cue_frames,
    cues_from_words,
    parse_srt,
    parse_vtt,
    write_srt,
    write_vtt,
)
from engine.errors import BackendUnavailableError, SpecError
from engine.pipeline import render_output, render_still
from engine.platforms import resolve_output
from engine.spec import deck_json_schema, load_deck
from engine.timeline import Hold, Motion, Timeline, split_holds

SRT = (
    "\ufeff1\r\n00:00:00,500 --> 00:00:01,250\r\n<i>Hello</i> there\r\nsecond line\r\n\r\n"
    "2\r\n00:00:01,300 --> 00:00:02,900\r\nNext cue\r\n"
)
VTT = """WEBVTT - a talk
Kind: captions

NOTE this is a comment
that runs on

STYLE
::cue { color: red }

intro
00:00.500 --> 00:01.250 align:center line:90%
<v Ann>Hello</v> &amp; there

00:00:01.300 --> 00:00:02.900
Next cue
"""


# -- reading and writing -----------------------------------------------------------------


def test_srt_cues_keep_times_and_lines_without_tags_or_bom():
    cues = parse_srt(SRT)
    assert cues == [Cue(0.5, 1.25, "Hello there\nsecond line"), Cue(1.3, 2.9, "Next cue")]


def test_vtt_skips_header_note_and_style_blocks_and_reads_identifiers_and_settings():
    cues = parse_vtt(VTT)
    assert cues == [Cue(0.5, 1.25, "Hello & there"), Cue(1.3, 2.9, "Next cue")]


@pytest.mark.parametrize(
    ("parse", "text", "line", "words"),
    [
        (parse_srt, "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03 --> 00:00:04,000\nbad\n", 6, "timing"),
        (parse_srt, "1\n00:00:02,000 --> 00:00:01,000\nbackwards\n", 2, "before it starts"),
        (parse_vtt, "1\n00:01.000 --> 00:02.000\nno header\n", 1, "WEBVTT"),
        (parse_vtt, "WEBVTT\n\n00:01.000 --> 00:02.000\nok\n\n00:03,000 --> 00:04.000\nbad\n", 6, "timing"),
    ],
)
def test_malformed_caption_text_names_the_file_and_line(parse, text, line, words):
    with pytest.raises(SpecError) as caught:
        parse(text, "talk.x")
    message = str(caught.value)
    assert message.startswith(f"talk.x:{line}: ")
    assert words in message
    assert "\n" not in message


def test_written_srt_and_vtt_read_back_the_same_cues():
    cues = [Cue(0.5, 1.25, "Hello there\nsecond line"), Cue(61.3, 3725.9, "a < b & c")]
    assert parse_srt(write_srt(cues)) == cues
    assert parse_vtt(write_vtt(cues)) == cues


def test_words_attach_to_the_tokens_of_their_cue_in_order():
    cues = [Cue(0.0, 2.0, "Hello, big world!"), Cue(2.0, 3.0, "Again")]
    words = [Word("hello", 0.1, 0.4), Word("big", 0.5, 0.8), Word("World", 1.0, 1.5), Word("again", 2.1, 2.5)]
    timed = attach_words(cues, words)
    assert timed[0].words == ((0, 0.1), (1, 0.5), (2, 1.0))
    assert timed[1].words == ((0, 2.1),)
    assert timed[0].word_at(0.05) is None and timed[0].word_at(0.6) == 1 and timed[0].word_at(1.9) == 2


def test_words_alone_are_grouped_into_cues_at_sentence_ends_and_pauses():
    words = [Word("One", 0, 0.3), Word("two.", 0.3, 0.6), Word("Three", 0.7, 1.0), Word("four", 2.0, 2.3)]
    cues = cues_from_words(words)
    assert [c.text for c in cues] == ["One two.", "Three", "four"]
    assert cues[0].words == ((0, 0.0), (1, 0.3))
    assert cues[1].end <= cues[2].start


def test_holds_split_at_caption_changes_and_only_there():
    timeline = Timeline(10, (Hold(0, 0, 20), Motion(0, 20, 25), Hold(0, 25, 40)), (0.0,))
    split = split_holds(timeline, [5, 22, 25, 30])
    assert split.segments == (Hold(0, 0, 5), Hold(0, 5, 20), Motion(0, 20, 25), Hold(0, 25, 30), Hold(0, 30, 40))
    assert cue_frames([Cue(0.5, 1.25, "x", ((0, 0.5), (1, 0.91)))], 10) == [5, 10, 13]


# -- the deck ------------------------------------------------------------------------------


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_malformed_caption_file_fails_loading_with_file_and_line(tmp_path):
    _write(tmp_path, "talk.srt", "1\n00:00:01,000 -> 00:00:02,000\nhi\n")
    with pytest.raises(SpecError, match=r"talk\.srt:2: expected a timing line"):
        load_deck({"slides": [{"kind": "title", "title": "A"}], "captions": "talk.srt"}, base_dir=tmp_path)
    _write(tmp_path, "words.json", '[\n {"word": "a", "start": 0, "end": 1},\n {"word": "b", "start": 2, "end": 1}\n]')
    with pytest.raises(SpecError, match=r"words\.json:3: item 1"):
        load_deck({"slides": [{"kind": "title", "title": "A"}], "captions": {"words": "words.json"}}, base_dir=tmp_path)


def test_caption_files_are_deck_assets_and_in_the_schema(tmp_path):
    _write(tmp_path, "talk.vtt", VTT)
    deck = load_deck({"slides": [{"kind": "title", "title": "A"}], "captions": "talk.vtt"}, base_dir=tmp_path)
    assert ("captions.file", tmp_path / "talk.vtt", "captions") in deck.asset_files()
    schema = json.dumps(deck_json_schema())
    assert "CaptionsSpec" in schema and "CaptionCueSpec" in schema and "CaptionStyle" in schema
    with pytest.raises(SpecError, match=r"slides\[0\]\.captions\[0\]\.end"):
        load_deck({"slides": [{"kind": "title", "title": "A", "captions": [{"text": "x", "start": 2, "end": 1}]}]})


def test_slide_captions_are_in_slide_time():
    deck = load_deck(
        {
            "defaults": {"transition": {"name": "fade", "duration": 0.5}},
            "slides": [
                {"kind": "title", "title": "A", "duration": 2},
                {"kind": "title", "title": "B", "duration": 2, "captions": [{"text": "b", "start": 0.25, "end": 9}]},
            ],
        }
    )
    # Slide 1 starts at 1.5 s (2 s less the 0.5 s fade into it), and ends at 3.5 s.
    assert deck.caption_cues([0.0, 1.5], 3.5) == [Cue(1.75, 3.5, "b")]


# -- rendered ------------------------------------------------------------------------------

TIKTOK_SMALL = replace(resolve_output("180x320@10"), safe_area=resolve_output("tiktok").safe_area)


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]


def _deck(folder: Path, captions: object, **theme) -> dict:
    return {
        "theme": {"background": "#1e5078", **theme},
        "slides": [{"kind": "title", "title": "Hi", "duration": 3}],
        **({} if captions is None else {"captions": captions}),
    }


def test_burned_captions_lie_in_the_safe_area_and_sidecars_and_soft_track_keep_the_times(tmp_path):
    _write(tmp_path, "talk.srt", "1\n00:00:00,500 --> 00:00:01,500\nCaptions for everyone watching\n")
    with_captions = load_deck(_deck(tmp_path, {"file": "talk.srt", "soft": True}), base_dir=tmp_path)
    without = load_deck(_deck(tmp_path, None), base_dir=tmp_path)
    report = render_output(with_captions, TIKTOK_SMALL, tmp_path / "c.mp4", compositor="cpu")
    render_output(without, TIKTOK_SMALL, tmp_path / "n.mp4", compositor="cpu")
    assert report.frames == 30 and report.composited_frames == 3  # before, during and after the cue

    w, h = TIKTOK_SMALL.size
    left, top, right, bottom = TIKTOK_SMALL.safe_area.box(w, h)
    x0, y0, x1, y1 = (
        CaptionOverlay(parse_srt((tmp_path / "talk.srt").read_text()), with_captions.theme, TIKTOK_SMALL).patch(0).box
    )
    assert left <= x0 < x1 <= right and top <= y0 < y1 <= bottom  # above the bottom UI zone
    inside = np.zeros((h, w), bool)
    inside[max(0, y0 - 4) : y1 + 4, max(0, x0 - 4) : x1 + 4] = True  # the codec smears edges a little
    for index, (a, b) in enumerate(zip(_frames(tmp_path / "c.mp4"), _frames(tmp_path / "n.mp4"), strict=True)):
        diff = np.abs(a - b).max(axis=2)
        # Lossy coding differs a little between the two files; a caption would differ by ~200.
        assert diff[~inside].max() <= 48 and np.percentile(diff[~inside], 99.5) <= 4, index
        if 5 <= index < 15:
            assert diff[y0:y1, x0:x1].max() > 100, index  # the caption is there
        else:
            assert diff.max() <= 48 and np.percentile(diff, 99.5) <= 4, index

    assert parse_srt((tmp_path / "c.srt").read_text()) == [Cue(0.5, 1.5, "Captions for everyone watching")]
    assert parse_vtt((tmp_path / "c.vtt").read_text()) == [Cue(0.5, 1.5, "Captions for everyone watching")]
    with av.open(str(tmp_path / "c.mp4")) as container:
        track = container.streams.subtitles[0]
        assert track.codec_context.name == "mov_text"
        packets = [p for p in container.demux(track) if p.size > 2]
        assert [(p.pts * p.time_base, p.duration * p.time_base) for p in packets] == [(0.5, 1.0)]
        assert [s.dialogue for p in packets for s in p.decode()] == [b"Captions for everyone watching"]


def test_karaoke_highlight_moves_to_each_word_at_its_start(tmp_path):
    _write(
        tmp_path,
        "words.json",
        json.dumps(
            [
                {"word": "one", "start": 0.5, "end": 0.9},
                {"word": "two", "start": 1.0, "end": 1.4},
                {"word": "three", "start": 1.5, "end": 2.0},
            ]
        ),
    )
    captions = {"theme": {"captions": {"size": 0.14, "highlight": "#ff2020"}}}
    data = _deck(tmp_path, {"words": "words.json", "sidecar": False})
    data["theme"].update(captions["theme"])
    deck = load_deck(data, base_dir=tmp_path)
    output = resolve_output("320x180@10")
    report = render_output(deck, output, tmp_path / "k.mp4", compositor="cpu")
    assert report.composited_frames == 5  # none, one, two, three, none
    assert not (tmp_path / "k.srt").exists()
    frames = _frames(tmp_path / "k.mp4")
    overlay = CaptionOverlay(deck.caption_cues([0.0], 3.0), deck.theme, output)
    for word, start in ((0, 5), (1, 10), (2, 15)):
        plain, lit = overlay.patch(0, None), overlay.patch(0, word)
        ys, xs = np.nonzero(np.abs(plain.rgba.astype(int) - lit.rgba.astype(int)).max(axis=2) > 60)
        assert len(xs) > 10
        place = (ys + lit.y, xs + lit.x)
        before, at = frames[start - 1][place].mean(axis=0), frames[start][place].mean(axis=0)
        assert at[0] - at[1] > 60 and before[0] - before[1] < 30, (word, before, at)  # red from its start


def test_right_to_left_captions_render_and_highlight_the_first_word_on_the_right():
    output = resolve_output("320x180@10")
    deck = load_deck({"theme": {"captions": {"size": 0.12}}, "slides": [{"kind": "title", "title": "A"}]})
    cue = Cue(0.0, 1.0, "שלום עולם יפה", ((0, 0.0), (1, 0.3), (2, 0.6)))
    overlay = CaptionOverlay([cue], deck.theme, output)
    plain, first = overlay.patch(0, None), overlay.patch(0, 0)
    text = (plain.rgba[..., :3].min(axis=2) > 200) & (plain.rgba[..., 3] > 200)
    assert text.sum() > 50  # glyphs were drawn
    _, xs = np.nonzero(np.abs(plain.rgba.astype(int) - first.rgba.astype(int)).max(axis=2) > 60)
    assert xs.min() > plain.rgba.shape[1] // 2  # the first word read is the rightmost


@pytest.mark.gl
def test_gl_frames_carry_the_same_caption_as_cpu_frames(tmp_path):
    _write(tmp_path, "talk.srt", "1\n00:00:00,000 --> 00:00:02,000\nThe same on both\n")
    deck = load_deck(_deck(tmp_path, "talk.srt"), base_dir=tmp_path)
    output = resolve_output("320x180@10")
    cpu = render_still(deck, output, 1.0, compositor="cpu").astype(int)
    try:
        gl = render_still(deck, output, 1.0, compositor="gl").astype(int)
    except BackendUnavailableError as exc:
        pytest.skip(str(exc))
    assert np.abs(cpu - gl).max() <= 3
