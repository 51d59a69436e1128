"""The deck file itself: syntax and encodings, YAML bombs, schema abuse."""

from __future__ import annotations

import codecs
import json

from .case import (
    BASE_DECK,
    DELETE,
    Case,
    Folder,
    Video,
    billion_laughs,
    deck_case,
    either,
    error,
    ok,
    render_args,
    yaml_case,
)

BASE_JSON = json.dumps(BASE_DECK)
BASE_YAML = """\
defaults: {transition: cut}
slides:
  - kind: title
    title: Hello
    duration: 1
  - kind: text
    text: World
    duration: 1
"""


def _bytes_case(group: str, name: str, data: bytes, deck: str = "deck.json", expect: str = "error") -> Case:
    def setup(f: Folder) -> list[str]:
        return render_args(f.write(deck, data))

    return (error if expect == "error" else ok)(group, name, setup)


def _path_case(group: str, name: str, make, expect: str = "error", **kw) -> Case:
    """A deck given as whatever path `make(folder)` returns."""

    def setup(f: Folder) -> list[str]:
        return render_args(make(f))

    return (error if expect == "error" else ok)(group, name, setup, **kw)


def syntax() -> list[Case]:
    g = "syntax"
    text = BASE_JSON
    cases = [
        _bytes_case(g, "json-empty-file", b""),
        _bytes_case(g, "json-truncated-half", text[: len(text) // 2].encode()),
        _bytes_case(g, "json-trailing-comma", text[:-1].encode() + b",}"),
        _bytes_case(g, "json-single-quotes", text.replace('"', "'").encode()),
        _bytes_case(g, "json-comment", b"// a deck\n" + text.encode()),
        _bytes_case(g, "json-null", b"null"),
        _bytes_case(g, "json-list", b"[]"),
        _bytes_case(g, "json-number", b"42"),
        _bytes_case(g, "json-raw-nul-in-string", text.replace("Hello", "Hel\x00lo").encode()),
        _bytes_case(g, "json-nul-first", b"\x00" + text.encode()),
        _bytes_case(g, "json-nan-literal", text.replace('"duration": 1}', '"duration": NaN}', 1).encode()),
        _bytes_case(g, "json-infinity-literal", text.replace('"duration": 1}', '"duration": Infinity}', 1).encode()),
        _bytes_case(
            g, "json-int-5000-digits", text.replace('"duration": 1}', '"duration": 1' + "0" * 5000 + "}", 1).encode()
        ),
        _bytes_case(g, "json-float-1e999", text.replace('"duration": 1}', '"duration": 1e999}', 1).encode()),
        _bytes_case(g, "json-nested-100000", b"[" * 100_000 + b"]" * 100_000),
        either(
            g,
            "json-lone-surrogate-escape",
            lambda f: render_args(f.write("deck.json", text.replace("Hello", "\\ud800"))),
        ),
        _bytes_case(g, "random-bytes", bytes(range(256)) * 64),
        _bytes_case(g, "gzipped-json", __import__("gzip").compress(text.encode(), mtime=0)),
        _bytes_case(g, "latin1-json", text.replace("Hello", "Café").encode("latin-1")),
        _bytes_case(g, "utf16-le-bom-json", codecs.BOM_UTF16_LE + text.encode("utf-16-le")),
        _bytes_case(g, "double-bom-json", codecs.BOM_UTF8 * 2 + text.encode()),
        _bytes_case(g, "utf8-bom-json", codecs.BOM_UTF8 + text.encode(), expect="ok"),
        _bytes_case(g, "crlf-json", text.replace(",", ",\r\n").encode(), expect="ok"),
        _bytes_case(g, "utf8-bom-yaml", codecs.BOM_UTF8 + BASE_YAML.encode(), deck="deck.yaml", expect="ok"),
        _bytes_case(g, "utf16-yaml", BASE_YAML.encode("utf-16"), deck="deck.yaml"),
        _bytes_case(g, "nul-in-yaml", BASE_YAML.replace("Hello", "Hel\x00lo").encode(), deck="deck.yaml"),
        yaml_case(g, "yaml-unclosed-quote", BASE_YAML.replace("Hello", '"Hello')),
        yaml_case(
            g,
            "yaml-bad-indent",
            BASE_YAML.replace("    duration: 1\n  - kind: text", "      duration: 1\n - kind: text"),
        ),
        yaml_case(
            g, "yaml-python-object-tag", BASE_YAML.replace("Hello", '!!python/object/apply:os.system ["touch pwned"]')
        ),
        yaml_case(g, "yaml-binary-tag", BASE_YAML.replace("Hello", "!!binary aGVsbG8=")),
        yaml_case(g, "yaml-bad-timestamp-tag", BASE_YAML.replace("Hello", "!!timestamp x")),
        yaml_case(g, "yaml-impossible-date", BASE_YAML.replace("Hello", "2024-13-40")),
        yaml_case(g, "yaml-two-documents", BASE_YAML + "---\n" + BASE_YAML),
        yaml_case(g, "yaml-undefined-alias", BASE_YAML.replace("Hello", "*nowhere")),
        yaml_case(g, "yaml-nan-duration", BASE_YAML.replace("duration: 1\n  - kind", "duration: .nan\n  - kind", 1)),
        yaml_case(g, "yaml-inf-duration", BASE_YAML.replace("duration: 1\n  - kind", "duration: .inf\n  - kind", 1)),
        yaml_case(
            g,
            "yaml-merge-key",
            BASE_YAML.replace("  - kind: text", "  - <<: {kind: text}\n    kind: text"),
            expect="ok",
        ),
        yaml_case(g, "yaml-json-flow", BASE_JSON, expect="ok"),
        _path_case(g, "deck-missing", lambda f: "nowhere.json"),
        _path_case(g, "deck-is-directory", lambda f: f.dir("deck.json")),
        _path_case(g, "deck-is-fifo", lambda f: f.fifo("deck.json")),
        _path_case(g, "deck-dev-zero", lambda f: "/dev/zero"),
        _path_case(g, "deck-dev-null", lambda f: "/dev/null"),
        _path_case(g, "deck-symlink-to-fifo", lambda f: (f.fifo("pipe"), f.symlink("deck.json", "pipe"))[1]),
        _path_case(g, "deck-dangling-symlink", lambda f: f.symlink("deck.json", "gone.json")),
        _path_case(g, "deck-name-300-chars", lambda f: "d" * 295 + ".json"),
        _path_case(g, "deck-etc-passwd", lambda f: "/etc/passwd", forbid=("root:x:",)),
        _path_case(
            g,
            "deck-symlink-to-valid",
            lambda f: (f.write("real.json", BASE_JSON), f.symlink("deck.json", "real.json"))[1],
            expect="ok",
        ),
        _path_case(g, "deck-no-suffix-json-text", lambda f: f.write("deck", BASE_JSON), expect="ok"),
        error(g, "deck-256-mb-padded", lambda f: render_args(_padded_deck(f, 256 * 1024 * 1024))),
    ]
    return cases


def _padded_deck(f: Folder, size: int) -> str:
    """A valid deck after `size` bytes of spaces: only a size limit refuses it quickly."""
    with open(f.path("deck.json"), "wb") as out:
        chunk = b" " * (1 << 20)
        out.writelines(chunk for _ in range(size // len(chunk)))
        out.write(BASE_JSON.encode())
    return "deck.json"


def yaml_bombs() -> list[Case]:
    g = "yaml-bomb"
    bomb = billion_laughs()
    slide2 = "  - kind: text\n    text: World\n    duration: 1\n"

    def base(extra_slide2: str = "", top: str = "", slide1: str = "    title: Hello\n") -> str:
        return (
            f"{top}defaults: {{transition: cut}}\nslides:\n  - kind: title\n{slide1}    duration: 1\n"
            + slide2
            + extra_slide2
        )

    bomb_cases = {
        "transition-param": base("    transition: {name: wipeleft, duration: 0.5, params: {softness: " + bomb + "}}\n"),
        "lumawipe-matte": base("    transition: {name: lumawipe, duration: 0.5, params: {matte: " + bomb + "}}\n"),
        "transition-easing": base("    transition: {name: fade, duration: 0.5, easing: " + bomb + "}\n"),
        "title": base(slide1=f"    title: {bomb}\n"),
        "bullets": base(slide1="    title: Hello\n").replace(
            "kind: title\n    title: Hello", "kind: bullets\n    bullets: " + bomb
        ),
        "unknown-key": base(slide1=f"    title: Hello\n    extra: {bomb}\n"),
        "schema-key": base(top=f"$schema: {bomb}\n"),
        "theme-font": base(top=f"theme: {{font: {bomb}}}\n"),
        "audio": base(top=f"audio: {bomb}\n"),
        "chart-values": base(slide1="    title: Hello\n").replace(
            "kind: title\n    title: Hello", "kind: chart\n    chart: {type: bar, labels: [a, b], values: " + bomb + "}"
        ),
        "slides": f"defaults: {{transition: cut}}\nslides: {bomb}\n",
        "whole-deck": f"{bomb}\n",
    }
    cases = [yaml_case(g, f"billion-laughs-{where}", text) for where, text in bomb_cases.items()]
    cases.append(yaml_case(g, "laughs-60000-title", base(slide1=f"    title: {billion_laughs(levels=4, width=9)}\n")))
    wide = "&a [" + ", ".join(["x"] * 10) + "]"
    cases += [
        yaml_case(g, "recursive-alias-title", base(slide1="    title: &r [*r]\n")),
        yaml_case(g, "recursive-alias-mapping", base(slide1="    title: Hello\n    motion: &r {build: *r}\n")),
        yaml_case(g, "recursive-alias-slides", "defaults: {transition: cut}\nslides: &s [*s]\n"),
        yaml_case(
            g,
            "alias-million-uses",
            base(slide1="    title: Hello\n    extra: [" + wide + ", " + ", ".join(["*a"] * 1_000_000) + "]\n"),
        ),
        yaml_case(g, "nested-lists-100000", base(slide1="    title: " + "[" * 100_000 + "]" * 100_000 + "\n")),
        yaml_case(g, "nested-maps-20000", base(slide1="    title: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n")),
        yaml_case(
            g,
            "nested-block-maps-1000",
            base(
                slide1="    title: Hello\n    extra:\n"
                + "".join(" " * (6 + 2 * i) + f"k{i}:\n" for i in range(1000))
                + " " * 2006
                + "1\n"
            ),
        ),
        yaml_case(g, "two-million-nodes", base(slide1="    title: Hello\n    extra: [" + "0, " * 2_000_000 + "0]\n")),
        yaml_case(
            g,
            "hundred-thousand-keys",
            base(slide1="    title: Hello\n    extra: {" + ", ".join(f"k{i}: {i}" for i in range(100_000)) + "}\n"),
        ),
        yaml_case(
            g,
            "hundred-thousand-anchors",
            base(slide1="    title: Hello\n    extra: [" + ", ".join(f"&a{i} {i}" for i in range(100_000)) + "]\n"),
        ),
        yaml_case(
            g,
            "two-million-bullets",
            base(slide1="    title: Hello\n").replace(
                "kind: title\n    title: Hello", "kind: bullets\n    bullets: [" + "b, " * 2_000_000 + "b]"
            ),
        ),
    ]
    return cases


_WRONG_TYPES = {"int": 42, "true": True, "list": [], "dict": {}}
_BAD_NUMBERS = {
    "zero": 0,
    "negative": -1,
    "huge": 1e308,
    "huge-int": 10**400,
    "nan": float("nan"),
    "inf": float("inf"),
    "minus-inf": float("-inf"),
    "string": "1",
    "true": True,
    "null-list": [None],
}


def _music(f: Folder) -> None:
    f.wav("m.wav")


def _voice(f: Folder) -> None:
    f.wav("v.wav", seconds=0.5)


def schema() -> list[Case]:
    g = "schema"
    c = deck_case
    cases = [
        c(g, "schema-key-42", ("$schema", 42)),
        c(g, "schema-key-object", ("$schema", {"a": 1})),
        c(g, "schema-key-string", ("$schema", "https://example.com/reel.schema.json"), expect="ok"),
        c(g, "slides-missing", ("slides", DELETE)),
        c(g, "slides-null", ("slides", None)),
        c(g, "slides-empty", ("slides", [])),
        c(g, "slides-string", ("slides", "title")),
        c(g, "slide-null", ("slides.0", None)),
        c(g, "slide-kind-missing", ("slides.0.kind", DELETE)),
        c(g, "slide-kind-unknown", ("slides.0.kind", "movie")),
        c(g, "slides-10000", ("slides", [{"kind": "title", "title": "x", "duration": 1}] * 10_000)),
        c(g, "slides-10000-bare", ("slides", [{}] * 10_000)),
        c(g, "title-empty", ("slides.0.title", "")),
        c(g, "title-spaces", ("slides.0.title", "   \n\t")),
        c(g, "text-style-unknown", ("slides.1.style", "shout")),
        c(g, "align-unknown", ("slides.1.align", "middle")),
        c(g, "duration-auto-no-voiceover", ("slides.0.duration", "auto")),
        c(g, "duration-3601", ("slides.0.duration", 3601)),
        c(g, "padding-without-auto", ("slides.0.padding", 1)),
        c(g, "bullets-empty", ("slides.1", {"kind": "bullets", "bullets": [], "duration": 1})),
        c(g, "bullets-nine", ("slides.1", {"kind": "bullets", "bullets": ["b"] * 9, "duration": 1})),
        c(g, "image-slide-no-file", ("slides.1", {"kind": "image", "duration": 1})),
        c(g, "key-of-other-kind", ("slides.0.bullets", ["b"])),
        c(g, "unknown-top-key", ("colour", "red")),
        c(g, "unknown-slide-key", ("slides.0.colour", "red")),
        c(g, "seed-negative", ("seed", -1)),
        c(g, "seed-2-pow-63", ("seed", 2**63)),
        c(g, "cover-negative", ("cover", -1)),
        c(g, "cover-after-end", ("cover", 99)),
        c(g, "cover-slide-out-of-range", ("cover", {"slide": 99})),
        c(g, "background-number", ("slides.0.background", 42)),
        c(g, "background-unknown-name", ("slides.0.background", "notacolour")),
        c(g, "background-rgb-300", ("slides.0.background", [300, 0, 0])),
        c(g, "background-rgb-nan", ("slides.0.background", [float("nan"), 0, 0])),
        c(
            g,
            "background-two-sources",
            ("slides.0.background", {"color": "#fff", "gradient": {"from": "#000", "to": "#fff"}}),
        ),
        c(g, "theme-line-height-100", ("theme", {"line_height": 100})),
        c(g, "theme-language-bad", ("theme", {"language": "../../etc"})),
        c(g, "transition-unknown", ("slides.1.transition", "fadde")),
        c(g, "transition-longer-than-slide", ("slides.1.transition", {"name": "fade", "duration": 2})),
        c(
            g,
            "transition-easing-unknown",
            ("slides.1.transition", {"name": "fade", "duration": 0.5, "easing": "bouncy"}),
        ),
        c(
            g,
            "transition-easing-nan",
            ("slides.1.transition", {"name": "fade", "duration": 0.5, "easing": [float("nan"), 0, 1, 1]}),
        ),
        c(
            g,
            "transition-easing-huge",
            ("slides.1.transition", {"name": "fade", "duration": 0.5, "easing": [1e308, 0, 1, 1]}),
        ),
        c(
            g,
            "transition-param-string",
            ("slides.1.transition", {"name": "wipeleft", "duration": 0.5, "params": {"softness": "soft"}}),
        ),
        c(
            g,
            "transition-param-huge-int",
            ("slides.1.transition", {"name": "wipeleft", "duration": 0.5, "params": {"softness": 10**400}}),
        ),
        c(
            g,
            "transition-param-nan",
            ("slides.1.transition", {"name": "wipeleft", "duration": 0.5, "params": {"softness": float("nan")}}),
        ),
        c(
            g,
            "transition-param-inf",
            ("slides.1.transition", {"name": "zoomin", "duration": 0.5, "params": {"strength": float("inf")}}),
        ),
        c(g, "transition-name-and-file", ("slides.1.transition", {"name": "fade", "file": "x.glsl"})),
        c(g, "transition-resize-without-file", ("slides.1.transition", {"name": "fade", "resize": "cover"})),
        c(g, "motion-ken-burns-on-text", ("slides.1.motion", {"ken_burns": True})),
        c(g, "motion-build-too-long", ("slides.1.motion", {"build": {"duration": 5}})),
        c(
            g,
            "chart-type-unknown",
            ("slides.1", {"kind": "chart", "chart": {"type": "radar", "labels": ["a"], "values": [1]}, "duration": 1}),
        ),
        c(
            g,
            "chart-lengths-differ",
            (
                "slides.1",
                {"kind": "chart", "chart": {"type": "bar", "labels": ["a", "b"], "values": [1]}, "duration": 1},
            ),
        ),
        c(
            g,
            "chart-value-nan",
            (
                "slides.1",
                {"kind": "chart", "chart": {"type": "bar", "labels": ["a"], "values": [float("nan")]}, "duration": 1},
            ),
        ),
        c(
            g,
            "chart-value-huge-int",
            (
                "slides.1",
                {"kind": "chart", "chart": {"type": "bar", "labels": ["a"], "values": [10**400]}, "duration": 1},
            ),
        ),
        c(
            g,
            "chart-pie-negative",
            (
                "slides.1",
                {"kind": "chart", "chart": {"type": "pie", "labels": ["a", "b"], "values": [1, -1]}, "duration": 1},
            ),
        ),
        c(
            g,
            "chart-10000-bars",
            (
                "slides.1",
                {
                    "kind": "chart",
                    "chart": {"type": "bar", "labels": [str(i) for i in range(10_000)], "values": [1] * 10_000},
                    "duration": 1,
                },
            ),
        ),
        c(
            g,
            "chart-and-image",
            (
                "slides.1",
                {
                    "kind": "chart",
                    "chart": {"type": "bar", "labels": ["a"], "values": [1]},
                    "image": "x.png",
                    "duration": 1,
                },
            ),
        ),
        c(g, "audio-volume-negative", ("audio", {"music": "m.wav", "volume": -1}), files=_music),
        c(g, "audio-duck-positive", ("audio", {"music": "m.wav", "duck": {"amount_db": 3}}), files=_music),
        c(g, "voiceover-gain-100", ("slides.0.voiceover", {"file": "v.wav", "gain_db": 100}), files=_voice),
        error(g, "deck-is-list", lambda f: render_args(f.deck(BASE_DECK["slides"]))),
    ]
    for label, value in _BAD_NUMBERS.items():
        cases.append(c(g, f"slide-duration-{label}", ("slides.0.duration", value)))
    for label, value in _BAD_NUMBERS.items():
        if label not in ("negative", "nan", "huge", "string"):  # the rest as for slides; 0 s is a cut
            continue
        cases.append(c(g, f"transition-duration-{label}", ("slides.1.transition", {"name": "fade", "duration": value})))
    for label, value in _WRONG_TYPES.items():
        cases.append(c(g, f"title-{label}", ("slides.0.title", value)))
    cases.append(c(g, "text-color-number", ("theme", {"text_color": 42})))
    cases.append(c(g, "text-color-list-of-str", ("theme", {"text_color": ["x", "y", "z"]})))
    cases.append(
        c(
            g,
            "chart-huge-values",
            (
                "slides.1",
                {
                    "kind": "chart",
                    "chart": {"type": "bar", "labels": ["a", "b"], "values": [1e308, -1e308], "reveal": 0.3},
                    "duration": 1,
                },
            ),
            expect="either",
        )
    )
    # Numbers a built-in transition takes unbounded: drawn or refused, never a hang.
    for name, param, value in [
        ("dissolve", "cells", 1e300),
        ("pixelize", "squares", 1e300),
        ("ripple", "frequency", 1e300),
        ("blurfade", "radius", 1e300),
    ]:
        transition = {"name": name, "duration": 0.4, "params": {param: value}}
        cases.append(
            c(
                g,
                f"transition-{name}-{param}-{value:g}",
                ("slides.1.transition", transition),
                expect="either",
                outputs=(Video(frames=24),),
            )
        )
    cases.append(
        c(
            g,
            "chart-kpi-huge",
            (
                "slides.1",
                {"kind": "chart", "chart": {"type": "kpi", "value": 1e308, "label": "x", "reveal": 0.3}, "duration": 1},
            ),
            expect="either",
        )
    )
    return cases
