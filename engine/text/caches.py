"""Forgetting what was learnt about fonts and shaping: after installing fonts, in tests."""

from __future__ import annotations

from . import fallback, fonts, runs, sfnt, shaping

__all__ = ["clear_caches"]


def clear_caches() -> None:
    """Empty every font and shaping cache, so the next lookup sees the machine as it is now."""
    for cached in (shaping.raqm_status, sfnt.font_facts, fonts.system_fonts):
        cached.cache_clear()
    fallback.clear_caches()
    runs.clear_caches()
