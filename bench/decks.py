"""Decks the service benches generate, and the check that what they rendered decodes.

Every deck is built here from an index, so a bench needs no files in git and two runs
with the same arguments render the same videos.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["decoded_frames", "small_deck", "tiny_deck"]

_TOPICS = [
    ("Seven days of easy meals", ["Oats with berries", "Lentil soup", "Salmon and greens", "Veggie curry"]),
    ("Quarterly numbers", ["Revenue up 12 %", "Churn down to 3 %", "Two new regions", "Hiring on plan"]),
    (
        "Walking the coast",
        ["Start at the lighthouse", "Follow the cliff path", "Lunch at the harbour", "Bus back at five"],
    ),
    ("Moving house", ["Book the van", "Label every box", "Forward the post", "Meter readings"]),
    ("Learning Spanish", ["Ten words a day", "One podcast a week", "Speak from day one", "Read the news slowly"]),
    ("Garden in spring", ["Sow the tomatoes", "Prune the roses", "Feed the lawn", "Net the berries"]),
    ("Onboarding", ["Laptop and accounts", "Meet the team", "First small task", "Review on Friday"]),
    ("Home workout", ["Ten squats", "Twenty second plank", "Ten push-ups", "Stretch it out"]),
    ("Trip to Lisbon", ["Tram 28 early", "Custard tarts in Belém", "Sunset at a miradouro", "Fado at night"]),
    ("Bake sourdough", ["Feed the starter", "Mix and rest", "Fold four times", "Bake covered, then open"]),
    ("Team retro", ["What went well", "What to change", "One experiment", "Owner and date"]),
    ("Saving energy", ["Lower the thermostat", "Shorter showers", "LED bulbs", "Lids on pans"]),
]

_BACKGROUNDS = [
    ("#1d2b53", "#0b0f1a"),
    ("#3a1c71", "#1a0b2e"),
    ("#0f4c3a", "#04140f"),
    ("#5b2a0c", "#1c0d03"),
    ("#123c69", "#051424"),
    ("#4a0e2e", "#16040d"),
]


def small_deck(index: int, *, seconds: float = 7.0, fade: float = 0.5) -> dict:
    """Deck `index` of the throughput set: 3 or 4 title/bullets slides, fades, `seconds` long."""
    title, bullets = _TOPICS[index % len(_TOPICS)]
    count = 3 + index % 2
    slides = [{"kind": "title", "title": title, "subtitle": f"bench deck {index + 1}"}]
    for part in range(count - 2):
        chosen = bullets[part * 2 : part * 2 + 3] or bullets[:3]
        slides.append({"kind": "bullets", "title": f"{title}: part {part + 1}", "bullets": chosen})
    slides.append({"kind": "title", "title": "Thanks for watching", "subtitle": title})
    duration = (seconds + fade * (count - 1)) / count  # Σ durations − Σ fades = seconds
    for slide in slides:
        slide["duration"] = round(duration, 4)
    top, bottom = _BACKGROUNDS[index % len(_BACKGROUNDS)]
    return {
        "title": f"{title} {index + 1}",
        "theme": {"background": {"gradient": {"from": top, "to": bottom, "direction": "diagonal"}}},
        "defaults": {"transition": {"name": "fade", "duration": fade}},
        "slides": slides,
    }


def tiny_deck(index: int, *, seconds: float = 1.0) -> dict:
    """Soak job `index`: two slides and a fade, `seconds` long, a title of its own."""
    fade = min(0.3, seconds / 3)
    duration = round((seconds + fade) / 2, 4)
    return {
        "title": f"soak job {index}",
        "defaults": {"transition": {"name": "fade", "duration": fade}},
        "slides": [
            {"kind": "title", "title": f"Job {index}", "duration": duration},
            {"kind": "text", "text": f"tiny deck {index}", "duration": duration},
        ],
    }


def decoded_frames(path: Path) -> int:
    """Frames PyAV decodes from the first video stream of `path` (0 if it cannot be read)."""
    import av

    try:
        with av.open(str(path)) as container:
            return sum(1 for _ in container.decode(video=0))
    except (av.error.FFmpegError, OSError, IndexError):
        return 0
