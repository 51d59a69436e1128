"""Holds written without encoding (engine/encode/skip.py): the file decodes strictly,
shows each hold as its coded frame exactly, and has the normal path's frames,
timestamps and keyframes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import av
import av.logging
import numpy as np
import pytest

from engine.encode.base import EncodeSettings, EncodeStats
from engine.encode.bitstream import bits_ue, ebsp_to_rbsp, rbsp_to_ebsp
from engine.encode.pyav import PyAVEncoder, skip_template
from engine.encode.skip import X264_REFS, plan_hold

W, H, FPS, GOP = 320, 180, 10, 20


def _slide(seed: int, w: int = W, h: int = H) -> np.ndarray:
    """An NV12 slide: a gradient background and a few flat blocks (text-like edges)."""
    rng = np.random.default_rng(seed)
    y = np.linspace(40 + seed * 10, 120 + seed * 10, w)[None, :].repeat(h, 0)
    for _ in range(6):
        top, left = int(rng.integers(0, h - h // 8)), int(rng.integers(0, w - w // 5))
        y[top : top + h // 9, left : left + w // 6] = rng.integers(170, 235)
    uv = np.full((h // 2, w), 128, np.uint8)
    uv[:, 0::2] = 110 + seed * 8
    uv[:, 1::2] = 140 - seed * 5
    return np.concatenate([y.astype(np.uint8).reshape(-1), uv.reshape(-1)])


def _deck(w: int = W, h: int = H) -> list[tuple[np.ndarray, int]]:
    """(NV12 frame, count): three slides held 3.5, 4.7 and 2.3 s with 1 s and 0.5 s fades."""
    a, b, c = _slide(1, w, h), _slide(2, w, h), _slide(3, w, h)
    items = [(a, 35)]
    items += [((a * (1 - t) + b * t).astype(np.uint8), 1) for t in np.arange(1, 11) / 11]
    items.append((b, 47))
    items += [((b * (1 - t) + c * t).astype(np.uint8), 1) for t in np.arange(1, 6) / 6]
    items.append((c, 23))
    return items


FRAMES = sum(count for _, count in _deck())


def _settings(skip: bool, preset: str = "veryfast", w: int = W, h: int = H) -> EncodeSettings:
    return EncodeSettings(w, h, FPS, gop=GOP, preset=preset, skip_holds=skip)


def _encode(
    path: Path, skip: bool, preset: str = "veryfast", w: int = W, h: int = H
) -> tuple[Path, EncodeStats, PyAVEncoder]:
    encoder = PyAVEncoder(_settings(skip, preset, w, h))
    encoder.open(path)
    pts = 0
    for frame, count in _deck(w, h):
        encoder.encode_repeated(frame, pts, count)
        pts += count
    return path, encoder.close(), encoder


def _decode(path: Path, strict: bool = False) -> tuple[list[tuple[int, bool, np.ndarray]], list[str]]:
    """Decoded (pts, keyframe, yuv420p planes) in display order, and FFmpeg's error lines."""
    with av.logging.Capture(local=True) as logs, av.open(str(path)) as container:
        stream = container.streams.video[0]
        if strict:
            stream.codec_context.options = {"err_detect": "crccheck+bitstream+buffer+explode"}
        frames = [
            (round(f.pts * stream.time_base * FPS), f.key_frame, f.to_ndarray(format="yuv420p"))
            for f in container.decode(stream)
        ]
    errors = [m for level, _, m in logs if level <= av.logging.WARNING]
    return frames, errors


def _packets(path: Path) -> list[tuple[int, int, bool]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = stream.time_base * FPS  # to frames
        return [(round(p.pts * rate), round(p.dts * rate), p.is_keyframe) for p in container.demux(stream) if p.size]


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("skip")
    normal = _encode(folder / "normal.mp4", skip=False)
    skipped = _encode(folder / "skipped.mp4", skip=True)
    return {"normal": normal, "skipped": skipped}


def test_holds_are_skipped_and_x264_codes_only_the_frames_it_must(pair):
    _, stats, encoder = pair["skipped"]
    assert encoder.skip_reason is None
    assert stats.holds == "skipped"
    assert stats.frames == FRAMES
    # Each hold's first frame, each keyframe inside a hold, and the 15 fade frames.
    assert stats.coded_frames == 3 + 4 + 15
    assert pair["normal"][1].coded_frames == FRAMES


def test_frames_timestamps_and_keyframes_equal_the_normal_path(pair):
    normal, skipped = _packets(pair["normal"][0]), _packets(pair["skipped"][0])
    assert len(skipped) == len(normal) == FRAMES
    assert sorted(p for p, _, _ in skipped) == sorted(p for p, _, _ in normal) == list(range(FRAMES))
    keys = [p for p, _, k in skipped if k]
    assert keys == [p for p, _, k in normal if k] == list(range(0, FRAMES, GOP))
    dts = [d for _, d, _ in skipped]
    assert dts == sorted(set(dts)), "decode timestamps must strictly increase"
    assert all(d <= p for p, d, _ in skipped)


def test_every_frame_decodes_strictly_with_pyav(pair):
    frames, errors = _decode(pair["skipped"][0], strict=True)
    assert errors == []
    assert [pts for pts, _, _ in frames] == list(range(FRAMES))
    assert [pts for pts, key, _ in frames if key] == list(range(0, FRAMES, GOP))


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg binary on this machine")
def test_every_frame_decodes_with_the_ffmpeg_cli_in_strict_mode(pair):
    command = ["ffmpeg", "-v", "error", "-xerror", "-err_detect", "explode", "-i", str(pair["skipped"][0])]
    result = subprocess.run([*command, "-f", "framemd5", "-"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    assert len([line for line in result.stdout.splitlines() if not line.startswith("#")]) == FRAMES


def test_each_hold_decodes_to_its_coded_frame_exactly(pair):
    frames, _ = _decode(pair["skipped"][0])
    pts, last, held, force = 0, None, 0, 0
    for _, count in _deck():
        plan, force = plan_hold(pts, count, GOP, last, force, X264_REFS["veryfast"])
        for coded in plan:
            for repeat in coded.repeats:
                assert np.array_equal(frames[repeat][2], frames[coded.pts][2]), f"frame {repeat}"
                held += 1
            last = coded.pts
        pts += count
    assert held == FRAMES - 22


@pytest.mark.parametrize("preset", ["veryfast", "medium"])  # one reference frame, and three
def test_x264s_frames_decode_as_x264_wrote_them(tmp_path, monkeypatch, preset):
    """The rewritten headers change nothing x264 coded: each frame x264 coded decodes
    bit-exactly as x264's own packets of the same encode do, decoded alone (no skip
    frames, no rewriting). (Two separate encodes are not compared: on some machines two
    x264 encodes of the same frames differ by a code value.)"""
    written: list[bytes] = []  # x264's packets, as it returned them, in decode order
    mux_skipping = PyAVEncoder._mux_skipping

    def keep(self, packets):
        written.extend(bytes(packet) for packet in packets)
        mux_skipping(self, packets)

    monkeypatch.setattr(PyAVEncoder, "_mux_skipping", keep)
    skipped_path, _, encoder = _encode(tmp_path / "skipped.mp4", skip=True, preset=preset)
    # x264's own parameter sets (the file's are rewritten for the skip frames), then its packets.
    stream = skip_template(encoder.settings)[0] + b"".join(written)
    decoder = av.CodecContext.create("h264", "r")
    packets = decoder.parse(stream) + decoder.parse(None)  # (None: the parser's last frame)
    alone = [frame for packet in packets for frame in decoder.decode(packet)]
    alone += decoder.decode(None)
    frames, _ = _decode(skipped_path)
    fed = encoder._fed_pts  # x264's frame n is the video's frame fed[n]
    assert len(alone) == len(fed) == 22
    for n, picture in enumerate(alone):
        assert np.array_equal(frames[fed[n]][2], picture.to_ndarray(format="yuv420p")), f"frame {fed[n]}"


def test_pictures_stay_close_to_the_normal_path(pair):
    normal, _ = _decode(pair["normal"][0])
    skipped, _ = _decode(pair["skipped"][0])
    for (pts, _, a), (_, _, b) in zip(normal, skipped, strict=True):
        mse = np.mean((a[:H].astype(np.float64) - b[:H]) ** 2)
        assert 10 * np.log10(255**2 / max(mse, 1e-9)) >= 40, f"frame {pts}"


def test_skipped_file_is_no_larger_at_720p(tmp_path):
    """At 320x180 an MP4's per-frame overhead is most of a hold frame either way; at 720p
    x264's near-skip P-frames cost more than the all-skip frames written for it."""
    _, normal, _ = _encode(tmp_path / "n.mp4", skip=False, w=1280, h=720)
    path, skipped, _ = _encode(tmp_path / "s.mp4", skip=True, w=1280, h=720)
    assert skipped.bytes <= normal.bytes
    assert skipped.coded_frames == 22
    assert len(_packets(path)) == FRAMES


@pytest.mark.parametrize("preset", ["faster", "medium"])
def test_other_presets_decode_strictly_and_hold_exactly(tmp_path, preset):
    path, stats, _ = _encode(tmp_path / "f.mp4", skip=True, preset=preset)
    frames, errors = _decode(path, strict=True)
    assert (errors, stats.holds, len(frames)) == ([], "skipped", FRAMES)
    assert all(np.array_equal(frames[p][2], frames[45][2]) for p in range(46, 60))


def test_settings_it_cannot_rewrite_keep_the_normal_path(tmp_path):
    """ultrafast writes CAVLC without B-frames (picture order count type 2): holds are
    encoded frame by frame, and the encoder says why."""
    path, stats, encoder = _encode(tmp_path / "u.mp4", skip=True, preset="ultrafast")
    assert stats.holds == "encoded"
    assert encoder.skip_reason
    assert len(_decode(path)[0]) == FRAMES


def test_exp_golomb_and_emulation_prevention():
    assert [bits_ue(v) for v in (0, 1, 2, 3, 7)] == ["1", "010", "011", "00100", "0001000"]
    raw = bytes([0, 0, 1, 0, 0, 0, 5, 0, 0, 3, 0, 0])
    escaped = rbsp_to_ebsp(raw)
    assert b"\x00\x00\x00" not in escaped and b"\x00\x00\x01" not in escaped
    assert escaped.endswith(b"\x03")
    assert ebsp_to_rbsp(escaped) == raw


def test_a_render_skips_holds_by_default_and_matches_the_normal_render(tmp_path):
    """Through the pipeline: a small deck with holds and fades, rendered both ways."""
    import engine
    from engine.pipeline import render_output

    deck = engine.load_deck(
        {
            "title": "holds",
            "defaults": {"transition": {"name": "fade", "duration": 0.5}},
            "slides": [
                {"kind": "title", "title": "One", "duration": 3},
                {"kind": "bullets", "title": "Two", "bullets": ["a", "b"], "duration": 4},
                {"kind": "text", "text": "Three", "style": "big", "duration": 3},
            ],
        }
    )
    output = engine.resolve_output("320x180@10")
    normal = render_output(deck, output, tmp_path / "n.mp4", compositor="cpu", encoder="libx264", skip_holds=False)
    skipped = render_output(deck, output, tmp_path / "s.mp4", compositor="cpu", encoder="libx264")
    assert (normal.holds, skipped.holds) == ("encoded", "skipped")
    a, b = _packets(tmp_path / "n.mp4"), _packets(tmp_path / "s.mp4")
    assert sorted(p for p, _, _ in a) == sorted(p for p, _, _ in b) == list(range(skipped.frames))
    assert [p for p, _, k in a if k] == [p for p, _, k in b if k]
    frames, errors = _decode(tmp_path / "s.mp4", strict=True)
    assert errors == [] and len(frames) == skipped.frames
    assert skipped.psnr_db is not None and skipped.psnr_db >= 35


_SMALL_DECK = {
    "title": "holds",
    "slides": [{"kind": "title", "title": "One", "duration": 2}, {"kind": "title", "title": "Two", "duration": 2}],
}


@pytest.mark.parametrize(
    "flag, holds, coded", [((), "skipped", lambda n: n < 35), (("--no-skip-holds",), "encoded", lambda n: n == 35)]
)
def test_the_cli_skips_holds_unless_told_not_to(tmp_path, flag, holds, coded):
    """`reel render` skips holds by default; `--no-skip-holds` encodes every frame.
    The report says which, and the coded frame count shows it."""
    import json

    from engine.cli import main

    (tmp_path / "deck.json").write_text(json.dumps(_SMALL_DECK))
    target, report = tmp_path / "out.mp4", tmp_path / "report.json"
    argv = [str(tmp_path / "deck.json"), "-p", "320x180@10", "--compositor", "cpu", "-o", str(target), "-q"]
    assert main(["render", *argv, "--report", str(report), *flag]) == 0
    written = json.loads(report.read_text())
    written = written[0] if isinstance(written, list) else written["outputs"][0]
    assert written["holds"] == holds and written["frames"] == 35
    assert coded(written["coded_frames"]), written["coded_frames"]
    frames, errors = _decode(target, strict=True)
    assert errors == [] and len(frames) == 35


def test_a_job_carries_skip_holds_and_its_cache_key_tells_them_apart():
    import engine
    from engine.jobs import OutputRequest
    from engine.jobs.run import output_key

    deck = engine.load_deck(_SMALL_DECK)
    skipping, encoding = OutputRequest("320x180@10"), OutputRequest("320x180@10", skip_holds=False)
    assert skipping.skip_holds and OutputRequest.from_dict({"skip_holds": False}) == OutputRequest(skip_holds=False)
    output = engine.resolve_output("320x180@10")
    assert output_key(deck, output, skipping, "cpu") != output_key(deck, output, encoding, "cpu")


def _reencode(path: Path, into: Path) -> Path:
    """What a platform does: decode the file, encode it afresh with x264."""
    with av.open(str(path)) as source, av.open(str(into), "w", format="mp4") as target:
        stream = target.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.options = {"crf": "18", "preset": "veryfast"}
        for frame in source.decode(video=0):
            frame.pict_type = av.video.frame.PictureType.NONE
            target.mux(stream.encode(frame))
        target.mux(stream.encode(None))
    return into


def test_a_platform_re_encode_shows_no_glitch_at_hold_boundaries(pair, tmp_path):
    """FFmpeg decoding the file into a fresh x264 encode, against the normal path's decode."""
    reencoded, _ = _decode(_reencode(pair["skipped"][0], tmp_path / "re.mp4"))
    normal, _ = _decode(pair["normal"][0])
    assert len(reencoded) == len(normal) == FRAMES
    worst = min(
        10 * np.log10(255**2 / max(np.mean((a[:H].astype(np.float64) - b[:H]) ** 2), 1e-9))
        for (_, _, a), (_, _, b) in zip(reencoded, normal, strict=True)
    )
    assert worst >= 45, worst


def _has_openh264() -> bool:
    if shutil.which("gst-launch-1.0") is None or shutil.which("gst-inspect-1.0") is None:
        return False
    inspect = subprocess.run(["gst-inspect-1.0", "openh264dec"], capture_output=True, check=False)
    return inspect.returncode == 0


@pytest.mark.skipif(not _has_openh264(), reason="no GStreamer with openh264dec (gstreamer1.0-plugins-bad, libopenh264)")
def test_a_second_decoder_openh264_decodes_every_frame_as_ffmpeg_does(pair, tmp_path):
    """Cisco's OpenH264 decoder (through GStreamer), not FFmpeg: every frame decodes, and
    every frame of every hold (the skip frames and what they show) is bit-exact with
    FFmpeg's. OpenH264 (2.3.1) differs from FFmpeg in a fade B-frame or so of x264's own
    normal-path files too (max 13 levels), so fade frames are held to a PSNR only."""
    raw = tmp_path / "out.yuv"
    pipeline = f"filesrc location={pair['skipped'][0]} ! qtdemux ! h264parse ! openh264dec"
    command = ["gst-launch-1.0", "-q", *pipeline.split(), "!", "video/x-raw,format=I420", "!"]
    result = subprocess.run([*command, "filesink", f"location={raw}"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    size = W * H * 3 // 2
    data = np.fromfile(raw, np.uint8)
    assert data.size == size * FRAMES
    frames, _ = _decode(pair["skipped"][0])
    held: set[int] = set()
    pts, last, force = 0, None, 0
    for _, count in _deck():
        plan, force = plan_hold(pts, count, GOP, last, force, X264_REFS["veryfast"])
        for coded in plan:
            if coded.repeats:
                held.update([coded.pts, *coded.repeats])
            last = coded.pts
        pts += count
    assert len(held) == 3 + 4 + FRAMES - 22
    for (pts, _, picture), theirs in zip(frames, data.reshape(FRAMES, size), strict=True):
        if pts in held:
            assert np.array_equal(picture.reshape(-1), theirs), f"frame {pts}"
        else:
            mse = np.mean((picture.reshape(-1).astype(np.float64) - theirs) ** 2)
            assert 10 * np.log10(255**2 / max(mse, 1e-9)) >= 40, f"frame {pts}"


_PAGE = """<!doctype html><html><body>
<video id="v" src="SRC" muted playsinline></video><canvas id="c" width="WIDTH" height="HEIGHT"></canvas>
<pre id="out">pending</pre>
<script>
const v = document.getElementById("v"), out = document.getElementById("out");
const ctx = document.getElementById("c").getContext("2d", {willReadFrequently: true});
const seen = [], frames = {};
v.addEventListener("error", () => { out.textContent = "error " + (v.error && v.error.code); });
const grab = async (t) => {
  // "seeked" can fire before the sought frame is presented (seen under load: the frame
  // drawn was the previous seek's), so also wait for the video's next presented frame.
  const presented = new Promise(done => v.requestVideoFrameCallback(() => done(true)));
  await new Promise(done => { v.addEventListener("seeked", done, {once: true}); v.currentTime = t; });
  await Promise.race([presented, new Promise(done => setTimeout(() => done(false), 5000))]);
  ctx.drawImage(v, 0, 0);
  frames[t] = Array.from(ctx.getImageData(0, 0, v.videoWidth, v.videoHeight).data.filter((_, i) => i % 4 < 3));
};
v.addEventListener("loadeddata", async () => {
  for (const t of TIMES) await grab(t);
  await grab(0);
  v.play().catch(e => { out.textContent = "play failed " + e; });
  const t0 = performance.now();
  const tick = () => {
    seen.push(v.currentTime);
    if (!(v.ended || v.currentTime >= v.duration || performance.now() - t0 > 60000)) return setTimeout(tick, 50);
    out.textContent = JSON.stringify({seen, duration: v.duration, width: v.videoWidth, frames});
  };
  tick();
});
</script></body></html>"""


def test_the_file_plays_in_chromium_over_holds_and_keyframes(pair, tmp_path):
    """Debian's Chromium, headless: <video> plays the file from start to end (currentTime
    advances over each hold and keyframe), and frames sought inside a hold (a skip frame
    after an IDR, and another in the same hold) show the same picture as PyAV's."""
    import json

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser import chromium

    shutil.copy(pair["skipped"][0], tmp_path / "s.mp4")
    times = [2.55, 3.45, 8.55]  # frames 25 and 34 (hold a, after the IDR at 20), 85 (hold b)
    page = _PAGE.replace("SRC", "s.mp4").replace("WIDTH", str(W)).replace("HEIGHT", str(H))
    (tmp_path / "page.html").write_text(page.replace("TIMES", json.dumps(times)))
    arguments = ("--disable-gpu", "--allow-file-access-from-files", "--autoplay-policy=no-user-gesture-required")
    with chromium(*arguments) as browser:
        browser.get((tmp_path / "page.html").as_uri())
        # Real time: 12 s of playback plus the seeks; the bound is for a loaded machine.
        out = browser.find_element(By.ID, "out")
        WebDriverWait(browser, 120, poll_frequency=0.2).until(lambda _: out.text != "pending")
        text = out.get_attribute("textContent") or ""
    assert text.startswith("{"), f"chromium: {text[:200]}"
    report = json.loads(text)
    assert report["width"] == W and report["duration"] == pytest.approx(FRAMES / FPS, abs=0.05)
    seen = report["seen"]
    assert seen == sorted(seen) and seen[-1] >= FRAMES / FPS - 0.15
    assert all(any(a < t < a + 1.0 for t in seen) for a in (1.5, 2.0, 4.0, 6.0, 8.5, 10.0))
    shown = {t: np.array(report["frames"][str(t)], np.int16).reshape(H, W, 3) for t in times}
    assert np.array_equal(shown[2.55], shown[3.45])
    with av.open(str(pair["skipped"][0])) as container:
        rgb = {
            round(f.pts * container.streams.video[0].time_base * FPS): f.to_ndarray(format="rgb24")
            for f in container.decode(video=0)
        }
    for t in times:
        frame = round(t * FPS - 0.5)
        assert np.abs(shown[t].mean((0, 1)) - rgb[frame].mean((0, 1))).max() < 6, f"{t} s"
    assert np.abs(shown[8.55].astype(int) - shown[2.55]).mean() > 5  # another slide


def test_sliced_frames_are_skipped_slice_by_slice(tmp_path, monkeypatch):
    """Above 1080p x264 codes with slice threads (less memory): each skip frame then
    carries one rewritten copy of every template slice, and decodes as its hold."""
    from engine.encode import pyav
    from engine.encode.bitstream import split_nals

    monkeypatch.setattr(pyav, "_SLICED_FROM_PIXELS", 0)  # slice threads at this test's size
    pyav.skip_template.cache_clear()
    try:
        encoder = PyAVEncoder(EncodeSettings(W, H, FPS, gop=GOP, preset="veryfast", threads=2))
        path = tmp_path / "sliced.mp4"
        encoder.open(path)
        pts = 0
        for frame, count in _deck():
            encoder.encode_repeated(frame, pts, count)
            pts += count
        stats = encoder.close()
    finally:
        pyav.skip_template.cache_clear()
    assert stats.holds == "skipped" and stats.coded_frames == 3 + 4 + 15
    with av.open(str(path)) as container:
        sizes = [bytes(p) for p in container.demux(video=0) if p.size]
    slices = [sum(1 for n in split_nals(_annexb(data)) if n.type in (1, 5)) for data in sizes]
    assert min(slices) == max(slices) == 2, slices  # every picture, skip frames included
    frames, errors = _decode(path, strict=True)
    assert errors == [] and [p for p, _, _ in frames] == list(range(FRAMES))
    shown = {pts: planes for pts, _, planes in frames}
    # Within each hold every skip frame shows the frame before it exactly (an IDR inside a
    # hold is coded afresh, so it may differ by the encode).
    for first, last in ((0, 34), (45, 91), (97, FRAMES - 1)):
        assert all(np.array_equal(shown[p - 1], shown[p]) for p in range(first + 1, last + 1) if p % GOP)


def _annexb(avcc: bytes) -> bytes:
    """MP4 samples (4-byte lengths) as Annex B, for split_nals."""
    out, at = bytearray(), 0
    while at < len(avcc):
        size = int.from_bytes(avcc[at : at + 4], "big")
        out += b"\x00\x00\x00\x01" + avcc[at + 4 : at + 4 + size]
        at += 4 + size
    return bytes(out)
