"""The command line, the output side, and valid decks that must render."""

from __future__ import annotations

import json

from .case import (
    BASE_DECK,
    FRAME,
    PLATFORM,
    REPO,
    VIDEO,
    Case,
    Folder,
    Picture,
    Video,
    deck_with,
    either,
    error,
    ok,
    render_args,
)

FONTS = REPO / "tests" / "data" / "fonts"


def _base(f: Folder, name: str = "deck.json") -> str:
    return f.deck(BASE_DECK, name)


def _cli(name: str, make, expect: str = "error", **kw) -> Case:
    """`make(folder)` writes what it needs (the base deck is there) and returns the arguments."""

    def setup(f: Folder) -> list[str]:
        _base(f)
        return list(make(f))

    return {"error": error, "ok": ok, "either": either}[expect]("cli", name, setup, **kw)


def _still(*extra: str, out: str = "frame.png", deck: str = "deck.json") -> list[str]:
    return ["still", deck, "--at", "0.5", "-p", PLATFORM, "--quality", "draft", "-o", out, *extra]


def cli() -> list[Case]:
    r = render_args
    cases = [
        _cli("jobs-not-a-number", lambda f: r("deck.json", "-j", "x")),
        _cli("jobs-zero", lambda f: r("deck.json", "-j", "0")),
        _cli("jobs-negative", lambda f: r("deck.json", "-j", "-1")),
        _cli("jobs-huge", lambda f: r("deck.json", "-j", "99999"), expect="either"),
        _cli("unknown-flag", lambda f: r("deck.json", "--frobnicate")),
        _cli("no-deck", lambda f: ["render", "-p", PLATFORM, "--quality", "draft", "-o", "out"]),
        _cli("unknown-command", lambda f: ["rendr", "deck.json"], fresh=True),  # a real `python -m engine.cli`
        _cli("report-missing-value", lambda f: r("deck.json", "--report")),
        _cli("platform-unknown", lambda f: ["render", "deck.json", "-p", "myspace", "-o", "out", "-q"]),
        _cli("platform-empty", lambda f: ["render", "deck.json", "-p", "", "-o", "out", "-q"]),
        _cli("platform-0x0", lambda f: ["render", "deck.json", "-p", "0x0", "-o", "out", "-q"]),
        _cli("platform-odd-size", lambda f: ["render", "deck.json", "-p", "321x180", "-o", "out", "-q"]),
        _cli("platform-99998-square", lambda f: ["render", "deck.json", "-p", "99998x99998", "-o", "out", "-q"]),
        _cli("platform-fps-1000", lambda f: ["render", "deck.json", "-p", "320x180@1000", "-o", "out", "-q"]),
        _cli("platform-huge-digits", lambda f: ["render", "deck.json", "-p", "9" * 5000 + "x2", "-o", "out", "-q"]),
        _cli("platform-twice", lambda f: r("deck.json", "-p", PLATFORM)),
        _cli(
            "platforms-into-one-file",
            lambda f: [
                "render",
                "deck.json",
                "-p",
                PLATFORM,
                "-p",
                "640x360",
                "--quality",
                "draft",
                "-o",
                "x.mp4",
                "-q",
            ],
        ),
        _cli(
            "quality-unknown",
            lambda f: ["render", "deck.json", "-p", PLATFORM, "--quality", "ultra", "-o", "out", "-q"],
        ),
        _cli("codec-unknown", lambda f: r("deck.json", "--codec", "mpeg2")),
        _cli("encoder-unknown", lambda f: r("deck.json", "--encoder", "nope")),
        _cli("encoder-codec-conflict", lambda f: r("deck.json", "--encoder", "libx264", "--codec", "av1")),
        _cli("compositor-unknown", lambda f: r("deck.json", "--compositor", "vulkan")),
        _cli("timeout-not-a-number", lambda f: r("deck.json", "--timeout", "x")),
        _cli("timeout-negative", lambda f: r("deck.json", "--timeout", "-1")),
        _cli("timeout-generous", lambda f: r("deck.json", "--timeout", "60"), expect="ok"),
        _cli("deck-name-newline-missing", lambda f: r("no\nsuch.json")),
        _cli(
            "deck-name-non-utf8",
            lambda f: r(_base(f, "d\udcff.json")),
            expect="ok",
            outputs=(Video("out/d\udcff-160x90@15-draft.mp4"),),
        ),
        _cli(
            "deck-name-leading-dash",
            lambda f: ["render", "-p", PLATFORM, "--quality", "draft", "-o", "out", "-q", "--", _base(f, "-deck.json")],
            expect="ok",
            outputs=(Video("out/-deck-160x90@15-draft.mp4"),),
        ),
        _cli("still-at-not-a-number", lambda f: _still("--at", "x")),
        _cli("still-at-nan", lambda f: _still("--at", "nan")),
        _cli("still-at-negative", lambda f: _still("--at", "-1")),
        _cli("still-at-past-end", lambda f: _still("--at", "1e9")),
        _cli("still-jpeg-name", lambda f: _still(out="frame.jpg")),
        _cli("still-deck-fifo", lambda f: _still(deck=f.fifo("pipe.json"))),
    ]
    return cases


def _out(name: str, make, expect: str = "error", **kw) -> Case:
    def setup(f: Folder) -> list[str]:
        _base(f)
        return list(make(f))

    return {"error": error, "ok": ok, "either": either}[expect]("output", name, setup, **kw)


def _r(out: str, *extra: str, deck: str = "deck.json") -> list[str]:
    return render_args(deck, *extra, out=out)


def outputs() -> list[Case]:
    n250, n255 = "n" * 246 + ".mp4", "n" * 251 + ".mp4"
    cases = [
        _out("target-is-directory", lambda f: (f.dir(VIDEO), _r("out"))[1]),
        _out("mp4-path-is-directory", lambda f: (f.dir("x.mp4"), _r("x.mp4"))[1]),
        _out("folder-is-regular-file", lambda f: (f.write("out", "not a folder\n"), _r("out"))[1]),
        _out("folder-under-regular-file", lambda f: (f.write("file", "x\n"), _r("file/sub"))[1]),
        _out("folder-is-the-deck", lambda f: _r("deck.json")),
        _out("folder-dev-null", lambda f: _r("/dev/null")),
        _out("mp4-under-dev-null", lambda f: _r("/dev/null/x.mp4")),
        _out("folder-is-fifo", lambda f: _r(f.fifo("out"))),
        _out("folder-dangling-symlink", lambda f: _r(f.symlink("out", "gone"))),
        _out("mp4-path-is-fifo", lambda f: _r(f.fifo("x.mp4")), expect="either", outputs=(Video("x.mp4"),)),
        _out("name-250-chars", lambda f: _r(n250), expect="ok", outputs=(Video(n250),)),
        _out("name-255-chars", lambda f: _r(n255), expect="ok", outputs=(Video(n255),)),
        _out("name-256-chars", lambda f: _r("n" * 252 + ".mp4")),
        _out("name-300-chars", lambda f: _r("n" * 296 + ".mp4")),
        _out("folder-name-300-chars", lambda f: _r("d" * 300)),
        _out(
            "derived-name-248-chars",
            lambda f: _r("out", deck=_base(f, "d" * 230 + ".json")),
            expect="ok",
            outputs=(Video("out/" + "d" * 230 + "-160x90@15-draft.mp4"),),
        ),
        _out("derived-name-too-long", lambda f: _r("out", deck=_base(f, "d" * 240 + ".json"))),
        _out("report-into-directory", lambda f: _r("out", "--report", f.dir("report"))),
        _out("report-missing-folder", lambda f: _r("out", "--report", "missing/report.json")),
        _out(
            "report-under-regular-file",
            lambda f: (f.write("file", "x\n"), _r("out", "--report", "file/report.json"))[1],
        ),
        _out("report-name-300-chars", lambda f: _r("out", "--report", "r" * 295 + ".json")),
        _out("report-is-fifo", lambda f: _r("out", "--report", f.fifo("report.json"))),
        _out("report-is-the-video", lambda f: _r("out", "--report", VIDEO)),
        _out(
            "thumbnail-target-is-directory",
            lambda f: (f.dir("out/deck-160x90@15-draft.png"), _r("out", "--thumbnail"))[1],
        ),
        _out("still-target-is-directory", lambda f: _still(out=f.dir("frame.png"))),
        _out("still-under-regular-file", lambda f: (f.write("file", "x\n"), _still(out="file/frame.png"))[1]),
        _out("still-name-300-chars", lambda f: _still(out="s" * 296 + ".png")),
        _out(
            "still-is-fifo", lambda f: _still(out=f.fifo("frame.png")), expect="either", outputs=(Picture("frame.png"),)
        ),
        _out(
            "report-existing-file",
            lambda f: (f.write("report.json", "{}\n"), _r("out", "--report", "report.json"))[1],
            expect="ok",
            outputs=(Video(), "report.json"),
        ),
        _out(
            "mp4-existing-file",
            lambda f: (f.write("x.mp4", "old\n"), _r("x.mp4"))[1],
            expect="ok",
            outputs=(Video("x.mp4"),),
        ),
        _out("mp4-upper-case-suffix", lambda f: _r("x.MP4"), expect="ok", outputs=(Video("x.MP4"),)),
        _out(
            "folder-nested-missing",
            lambda f: _r("a/b/c"),
            expect="ok",
            outputs=(Video("a/b/c/deck-160x90@15-draft.mp4"),),
        ),
        _out(
            "folder-symlink-to-folder",
            lambda f: (f.dir("real"), _r(f.symlink("out", "real")))[1],
            expect="ok",
            outputs=(Video("real/deck-160x90@15-draft.mp4"),),
        ),
        _out(
            "still-nested-missing",
            lambda f: _still(out="a/b/frame.png"),
            expect="ok",
            outputs=(Picture("a/b/frame.png"),),
        ),
    ]
    return cases


_ONE_VIDEO = (Video(),)  # a valid case's outputs unless it names others (made once: Video is frozen)


def _valid(name: str, *changes, extra: tuple[str, ...] = (), outputs=_ONE_VIDEO, files=None, **kw) -> Case:
    deck = deck_with(*changes)

    def setup(f: Folder) -> list[str]:
        if files is not None:
            files(f)
        return render_args(f.deck(deck), *extra)

    return ok("valid", name, setup, outputs=outputs, **kw)


def _two(kind_1: dict, kind_2: dict | None = None) -> tuple:
    changes = [("slides.0", {**kind_1, "duration": 1})]
    if kind_2 is not None:
        changes.append(("slides.1", {**kind_2, "duration": 1}))
    return tuple(changes)


def _chart(chart: dict) -> tuple:
    return ("slides.1", {"kind": "chart", "title": "Chart", "chart": {**chart, "reveal": 0.3}, "duration": 1})


def valid() -> list[Case]:
    fade = ("slides.1.transition", {"name": "fade", "duration": 0.4})
    v24 = (Video(frames=24),)
    arabic = FONTS / "NotoSansArabic-subset.ttf"
    japanese = FONTS / "NotoSansJP-subset.otf"
    cases = [
        _valid("base-json", fresh=True),  # a real `python -m engine.cli`
        ok(
            "valid",
            "base-yaml",
            lambda f: render_args(
                f.write(
                    "deck.yaml",
                    "slides:\n  - {kind: title, title: Hello, duration: 1}\n  - {kind: text, text: World, duration: 1}\ndefaults: {transition: cut}\n",
                )
            ),
        ),
        _valid(
            "bullets-long-cut-to-fit",
            ("slides.1", {"kind": "bullets", "bullets": ["long words " * 100] * 8, "duration": 1}),
        ),
        _valid(
            "text-quote",
            (
                "slides.1",
                {"kind": "text", "text": "Ship it.", "style": "quote", "attribution": "Someone", "duration": 1},
            ),
        ),
        _valid("title-1000-chars", ("slides.0.title", "Long title " * 90)),
        _valid("chart-bar", _chart({"type": "bar", "labels": ["a", "b"], "values": [1, 2], "unit": "kcal"})),
        _valid(
            "chart-line",
            _chart(
                {
                    "type": "line",
                    "labels": ["a", "b", "c"],
                    "series": [{"name": "x", "values": [1, 3, 2]}, {"name": "y", "values": [2, 1, 3]}],
                }
            ),
        ),
        _valid(
            "chart-stacked",
            _chart(
                {
                    "type": "stacked_bar",
                    "labels": ["a", "b"],
                    "series": [{"name": "x", "values": [1, 3]}, {"name": "y", "values": [2, 1]}],
                }
            ),
        ),
        _valid("chart-pie", _chart({"type": "pie", "labels": ["a", "b"], "values": [1, 2]})),
        _valid("chart-kpi", _chart({"type": "kpi", "value": 1850, "label": "a day", "progress": 0.82, "delta": -3.5})),
        _valid("transition-fade", fade, outputs=v24),
        _valid(
            "transition-lumawipe-clouds", ("slides.1.transition", {"name": "lumawipe", "duration": 0.4}), outputs=v24
        ),
        _valid(
            "transition-cube-bezier",
            ("slides.1.transition", {"name": "cube", "duration": 0.4, "easing": [0.25, 0.1, 0.25, 1]}),
            outputs=v24,
        ),
        _valid(
            "transition-ripple",
            ("slides.1.transition", {"name": "ripple", "duration": 0.4, "easing": "ease-in-out-back"}),
            outputs=v24,
        ),
        _valid(
            "motion-build",
            (
                "slides.1",
                {"kind": "bullets", "bullets": ["a", "b"], "duration": 1, "motion": {"build": {"duration": 0.5}}},
            ),
        ),
        _valid(
            "motion-ken-burns",
            (
                "slides.1",
                {
                    "kind": "image",
                    "file": "pic.png",
                    "duration": 1,
                    "motion": {"ken_burns": {"zoom": [1, 1.2], "pan": "right"}},
                },
            ),
            files=lambda f: f.png("pic.png"),
        ),
        _valid(
            "image-fill-caption",
            ("slides.1", {"kind": "image", "file": "pic.png", "fit": "fill", "caption": "Caption", "duration": 1}),
            files=lambda f: f.png("pic.png"),
        ),
        _valid("markup", ("slides.1.text", "**bold** *italic* [[accent]] and 2 * 3 ** 4")),
        _valid(
            "text-case-legibility",
            ("theme", {"text_case": "upper", "legibility": "scrim", "line_height": 1.3, "text_align": "right"}),
        ),
        _valid(
            "rtl-arabic",
            ("slides.1.text", "مرحبا بالعالم"),
            ("theme", {"fallback_fonts": [str(arabic)], "system_fonts": False}),
        ),
        _valid(
            "cjk-japanese",
            ("slides.1.text", "日本語のテキスト"),
            ("theme", {"fallback_fonts": [str(japanese)], "language": "ja"}),
        ),
        _valid("cover-moment", ("cover", 1.5)),
        _valid("thumbnail", extra=("--thumbnail",), outputs=(Video(), Picture("out/deck-160x90@15-draft.png"))),
        _valid("report", extra=("--report", "report.json"), outputs=(Video(), "report.json")),
        _valid("hevc", extra=("--codec", "hevc"), outputs=(Video(),)),
        _valid(
            "music-and-voiceover",
            ("audio", {"music": "m.wav", "fade_in": 0.2, "duck": True}),
            ("slides.0.voiceover", "v.wav"),
            files=lambda f: (f.wav("m.wav"), f.wav("v.wav", seconds=0.5)),
        ),
        ok(
            "valid",
            "duplicate-json-key",
            lambda f: render_args(f.write("deck.json", '{"slides": 1, ' + json.dumps(BASE_DECK)[1:])),
        ),
        ok(
            "valid",
            "two-platforms-two-jobs",
            lambda f: [
                "render",
                _base(f),
                "-p",
                PLATFORM,
                "-p",
                "640x360",
                "--quality",
                "draft",
                "-o",
                "out",
                "-q",
                "-j",
                "2",
            ],
            outputs=(Video(), Video("out/deck-320x180@15-draft.mp4", size=(320, 180))),
        ),
        ok("valid", "still", lambda f: (_base(f), _still())[1], outputs=(Picture("frame.png", FRAME),)),
    ]
    return cases
