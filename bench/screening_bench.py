"""Per-message cost of screening with every detector on.

    python bench/screening_bench.py [--rounds N] [--clock wall|cpu]

Screens 300-character messages of several shapes (plain chat, chat with digits, with a
phone number, with links) and prints the median, p95, p99 and maximum cost per message in
milliseconds. Targets: median <= 0.2 ms, p99 <= 1 ms. A stress shape (look-alike letters,
zero-width characters, leetspeak and elongation in every other word, which no member writes
by accident) is measured too but is not held to the median target. The messages are written
here; no dataset text is used.

``--clock wall`` (the default) times each call with the wall clock, which is what a member
waits; on a shared machine other processes show up in its tail. ``--clock cpu`` counts only
this thread's CPU time, which is the cost itself and steadier there.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation.screening import ScreeningContext, screen_message

MESSAGE_LENGTH = 300
TARGET_MEDIAN_MS = 0.2
TARGET_P99_MS = 1.0

# Each shape is a few variants, cycled, so caches and branch prediction see some variety.
SHAPES: dict[str, tuple[str, ...]] = {
    "plain chat": (
        "Thanks for listening everyone, today was a rough one at work and I just needed to "
        "get it out of my head. My manager keeps moving the deadline and I feel like I can "
        "never catch up, but talking here helps a lot. How is everyone else doing tonight? "
        "I hope you all get some proper rest and a kinder day tomorrow, honestly.",
        "I tried the breathing exercise someone mentioned yesterday and it actually helped "
        "a little when the panic started on the bus. Not magic, but it took the edge off. "
        "Going to keep practising it. Does anyone have tips for getting back to sleep after "
        "waking up at four in the morning with your mind racing about everything at once?",
    ),
    "with digits": (
        "It has been 2 years 3 months since I last drank, and on 21/11/2026 I get my next "
        "chip. Meetings are at 10:30 and 19:00, room 4, and the bus there costs £2.50 each "
        "way, about 45 minutes door to door. I slept 6 hours last night, up from 4 a week "
        "ago, so small wins. My therapist said 12 sessions, I have had 7 of them so far.",
        "Week 3 of the new meds: 50 mg in the morning, appointment moved to 14 March at "
        "09:15. I walked 8000 steps on Tuesday and 10500 on Wednesday, which is 2x what I "
        "managed in October. Rent went up by 120 a month though, which is stressful. The "
        "2024-2025 waiting list was 18 weeks, now they say 26, so roughly half a year!!",
    ),
    "with a phone number": (
        "My counsellor gave me a number for evenings, and honestly it helped to talk to a "
        "real voice. If anyone wants it you can reach me on +44 7400 123456 any time after "
        "eight, or we could just keep chatting here, whatever feels better for you. I know "
        "how lonely the nights get, I really do, and nobody should sit with that alone.",
        "Sorry I went quiet, my phone died. New number is 07400 123456 if you want to text "
        "instead of using this place, or call (415) 555-2671 which is my work line in the "
        "US office. Anyway, today was better than yesterday, I went outside for a walk and "
        "sat by the river for a while. Small steps, but steps. Hope your evening is gentle.",
    ),
    "with links": (
        "These helped me a lot when I was struggling: https://www.nhs.uk/mental-health/ "
        "and https://www.mind.org.uk/information-support/ and the sleep guide at "
        "www.sleepfoundation.org/insomnia which has practical tips. Also follow me at "
        "instagram.com/some.handle for the daily check-in posts I do with friends, ok?",
        "Found a good article on grounding techniques: https://example.org/grounding and "
        "a podcast episode at https://podcasts.example.com/ep/42 that made me feel less "
        "alone. My friend runs discord.gg/abc123 for people in recovery too. Not sure if "
        "sharing links is allowed here, sorry if not, mods please remove it if it isn't.",
    ),
}
STRESS_SHAPES: dict[str, tuple[str, ...]] = {
    "stress: look-alikes, leet": (
        "ugh \u0443\u043eu'r\u0435 such \u0430 l00000ser and n0b0dy c4r3s ab0ut y0u, "
        "s\u200bt\u200bu\u200bp\u200bi\u200bd. j/k, I'm s000 tired of this w33k, it's been "
        "the w\u00f6rst. \uff29 \uff4e\uff45\uff45\uff44 \uff53\uff4c\uff45\uff45\uff50. "
        "anyway h0w ar3 y0u all d0ing t0night? I h0pe b3tter than me, s3ri0usly. "
        "t4lk s00n fr13nds, g00d n1ght and t4k3 c4r3 0f y0urs3lv3s please.",
    ),
}


def _to_length(text: str) -> str:
    repeated = (text + " ") * (MESSAGE_LENGTH // max(len(text), 1) + 1)
    return repeated[:MESSAGE_LENGTH]


def _measure(messages: tuple[str, ...], *, rounds: int, clock: str) -> list[float]:
    now = time.perf_counter_ns if clock == "wall" else time.thread_time_ns
    context = ScreeningContext(recent_bodies=("hi", "how is everyone"))
    for message in messages:  # warm up caches (lazy data loading, per-character folding)
        screen_message(text=message, context=context)
    timings: list[float] = []
    gc.disable()  # a collection in the middle of one call says nothing about screening
    try:
        for index in range(rounds):
            message = messages[index % len(messages)]
            started = now()
            screen_message(text=message, context=context)
            timings.append((now() - started) / 1_000_000)
    finally:
        gc.enable()
    return timings


def _percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5000, help="messages per shape")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    arguments = parser.parse_args(argv)
    print(f"screen_message, all detectors, {MESSAGE_LENGTH}-character messages, "
          f"{arguments.rounds} per shape, {arguments.clock} clock (ms per message)")
    print(f"{'shape':28} {'median':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    all_met = True
    for shape, variants in {**SHAPES, **STRESS_SHAPES}.items():
        messages = tuple(_to_length(variant) for variant in variants)
        timings = sorted(_measure(messages, rounds=arguments.rounds, clock=arguments.clock))
        median = statistics.median(timings)
        p99 = _percentile(timings, 0.99)
        met = (median <= TARGET_MEDIAN_MS or shape in STRESS_SHAPES) and p99 <= TARGET_P99_MS
        all_met = all_met and met
        print(f"{shape:28} {median:8.3f} {_percentile(timings, 0.95):8.3f} {p99:8.3f} "
              f"{timings[-1]:8.3f}{'' if met else '  over target'}")
    print(f"targets: median <= {TARGET_MEDIAN_MS} ms (stress shape excepted), "
          f"p99 <= {TARGET_P99_MS} ms: {'met' if all_met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
