"""The crisis probe's messages: wordings the rules alone leave unflagged and the learned
detector raises to high_risk or imminent, so each one brings its author a `support` card only
through the model (docs/protocol.md, `support`).

Run by the benchmark inside Hearth's environment (the served checkout, its screening code and
model directory): ``python -m bench.fanout.probe_texts``. Prints one JSON line,
``{"texts": [...], "model_version": "..."}``, or exits 1 saying why none will do. The choice
is made again on every run, as tests/system/test_learned_screening.py's crisis_the_rules_miss
makes it, so retuning the rules or retraining the model cannot leave the probe measuring
nothing.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from moderation.screening.learned import LearnedScreener

# Our own wordings, of the kind word lists miss: no "suicide", "kill myself" or "end it".
CANDIDATES: Final = (
    "i have written notes for the people i love so they are not confused afterwards",
    "the plan is set for after everyone is asleep tonight, this is my goodbye to the group",
    "my sister can have my guitar, i won't be around to play it after this week",
    "i am done fighting, after tonight nobody has to worry about me ever again",
    "so tired of being the problem, soon i will not be here to cause any more of it",
    "been saying quiet goodbyes all day, it will all be over for me before morning",
    "i've made arrangements for my dog because i am not going to be here much longer",
    "there is no tomorrow for me, i've already decided and i feel calm about it",
)
# The spam rules flag a third identical message in a row (moderation/screening/spam.py):
# the probe alternates wordings, so it needs at least two.
FEWEST_TEXTS: Final = 2


def rules_miss_and_model_catches(text: str, screener: LearnedScreener) -> bool:
    """No crisis signal from the rules, and the model adds high_risk or imminent."""
    from moderation.screening import ScreeningContext, screen_message
    from moderation.screening.combine import added_by_model

    rules = [s for s in screen_message(text=text, context=ScreeningContext())
             if s.detector == "crisis"]
    added = added_by_model(rules, screener.signals([text])[0])
    return not rules and any(s.kind in {"high_risk", "imminent"} for s in added)


def qualifying_texts(screener: LearnedScreener,
                     candidates: Sequence[str] = CANDIDATES) -> list[str]:
    return [text for text in candidates if rules_miss_and_model_catches(text, screener)]


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hearth.settings")
    from django.conf import settings

    from moderation.screening.learned import MODEL_DIR, LearnedScreener, ModelUnavailableError

    # The files the workers load, whether or not HEARTH_SCREENING_MODEL turns them on: a run
    # with the model off sends the same probes and shows that no card comes.
    directory = Path(settings.HEARTH_SCREENING_MODEL_DIR or MODEL_DIR)
    try:
        screener = LearnedScreener(directory)
    except ModelUnavailableError as failure:
        print(f"--crisis-probe: the learned detector in {directory} did not load ({failure}); "
              "the probe needs it to choose its messages", file=sys.stderr)
        return 1
    texts = qualifying_texts(screener)
    if len(texts) < FEWEST_TEXTS:
        print(f"--crisis-probe: {len(texts)} of the {len(CANDIDATES)} wordings in "
              f"bench/fanout/probe_texts.py are missed by the rules and raised by the model "
              f"(version {screener.version}); the probe needs {FEWEST_TEXTS} (it alternates "
              "them: the spam rules flag a third identical message in a row). Add wordings "
              "of the kind the model is for.", file=sys.stderr)
        return 1
    print(json.dumps({"texts": texts, "model_version": screener.version}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
