"""The luma-matte wipe: a greyscale image decides where the next slide shows first."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from engine.colour import nv12_planes, nv12_size
from engine.composite import FrameSpec
from engine.composite.cpu import CPUCompositor
from engine.errors import AssetError, SpecError
from engine.spec import load_deck
from engine.transitions import MATTES, image_path

W, H = 64, 36


def _solid(value: int) -> np.ndarray:
    return np.full((H, W, 3), value, dtype=np.uint8)


@pytest.fixture
def split_matte(tmp_path):
    """A matte black on the left half, white on the right: the left turns first."""
    matte = np.zeros((90, 160), dtype=np.uint8)
    matte[:, 80:] = 255
    path = tmp_path / "split.png"
    Image.fromarray(matte, "L").save(path)
    return path


def _luma_at(progress: float, params: dict) -> np.ndarray:
    compositor = CPUCompositor(W, H)
    a, b = compositor.upload("a", _solid(0)), compositor.upload("b", _solid(255))
    compositor.render(FrameSpec(a, b, "lumawipe", progress, params))
    out = np.empty(nv12_size(W, H), dtype=np.uint8)
    compositor.read_nv12(out)
    return nv12_planes(out, W, H)[0]


def test_dark_parts_of_the_matte_turn_first(split_matte):
    params = {"matte": str(split_matte), "softness": 0.0}
    luma = _luma_at(0.3, params)
    assert (luma[:, : W // 2 - 1] == 235).all() and (luma[:, W // 2 + 1 :] == 16).all()
    inverted = _luma_at(0.3, {**params, "invert": 1.0})
    assert (inverted[:, : W // 2 - 1] == 16).all() and (inverted[:, W // 2 + 1 :] == 235).all()
    assert (_luma_at(0.0, params) == 16).all() and (_luma_at(1.0, params) == 235).all()


def test_the_bundled_mattes_exist_and_are_greyscale():
    for name in MATTES:
        with Image.open(image_path(name)) as image:
            assert image.mode == "L" and min(image.size) >= 128


def test_a_deck_names_its_matte_relative_to_itself_and_lists_it(tmp_path, split_matte):
    deck = {
        "slides": [
            {"kind": "title", "title": "A"},
            {"kind": "title", "title": "B", "transition": {"name": "lumawipe", "params": {"matte": "split.png"}}},
        ]
    }
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    loaded = load_deck(tmp_path / "deck.json")
    assert loaded.timings()[1].transition_params["matte"] == str(split_matte)
    assert ("slides[1].transition.params.matte", split_matte, "image") in loaded.asset_files()


def test_a_missing_matte_is_an_asset_error_naming_it(tmp_path):
    deck = {
        "slides": [
            {"kind": "title", "title": "A"},
            {"kind": "title", "title": "B", "transition": {"name": "lumawipe", "params": {"matte": "nope.png"}}},
        ]
    }
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    with pytest.raises(AssetError, match="nope.png"):
        load_deck(tmp_path / "deck.json")


def test_a_matte_that_is_not_a_name_or_path_is_a_spec_error():
    deck = {
        "slides": [
            {"kind": "title", "title": "A"},
            {"kind": "title", "title": "B", "transition": {"name": "lumawipe", "params": {"matte": 3}}},
        ]
    }
    with pytest.raises(SpecError) as caught:
        load_deck(deck)
    assert caught.value.path == "slides[1].transition.params.matte"
    assert "bundled matte" in str(caught.value)
