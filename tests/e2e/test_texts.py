"""The messages the browser tests send read the same way to the screening in every run.

The shipped model reads every message, and a few words' reading can tip over a threshold
with the tag that keeps a message apart from the others ("[1]", "[2]"). A browser test
whose everyday message the model sometimes queues fails now and then for no reason a
reader can see; here every text is read with every tag a run can give it, so a text (or a
model) that reads differently by tag fails here, plainly, instead.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from moderation.screening import ScreeningContext, screen_message
from moderation.screening.combine import added_by_model
from moderation.screening.learned import LearnedScreener
from tests.e2e.helpers import UNIQUE_REPEATS

HERE = Path(__file__).parent


def _module_strings(tree: ast.Module) -> dict[str, str]:
    return {node.targets[0].id: node.value.value for node in tree.body
            if isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}


def _unique_arguments(path: Path) -> Iterator[str | None]:
    """Each text passed to unique() in `path`: None for one that is not a plain string."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = _module_strings(tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "unique" and node.args):
            continue
        argument = node.args[0]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            yield argument.value
        elif isinstance(argument, ast.Name):
            yield constants.get(argument.id)
        else:
            yield None


def _texts() -> list[str | None]:
    found: set[str | None] = set()
    for path in sorted(HERE.glob("test_*.py")):
        found.update(_unique_arguments(path))
    return sorted(found, key=lambda text: text or "")


TEXTS = _texts()


@pytest.fixture(scope="module")
def model() -> LearnedScreener:
    return LearnedScreener()


def _reading(model: LearnedScreener, texts: list[str]) -> list[tuple[str, ...]]:
    readings = []
    for text, from_model in zip(texts, model.signals(texts), strict=True):
        rules = screen_message(text=text, context=ScreeningContext())
        readings.append(tuple(sorted(f"{signal.detector}:{signal.kind}:{signal.severity}"
                                     for signal in [*rules, *added_by_model(rules, from_model)])))
    return readings


def test_every_text_is_a_plain_string() -> None:
    # An f-string or a variable would be read here as something else than what is sent.
    assert None not in TEXTS, "pass unique() a string literal or a module-level constant"


def test_no_text_ends_with_another() -> None:
    # "all [1]" would be found inside "Evening all [1]".
    texts = [text for text in TEXTS if text]
    assert [(a, b) for a in texts for b in texts if a != b and b.endswith(a)] == []


@pytest.mark.parametrize("text", [text for text in TEXTS if text])
def test_the_text_reads_the_same_with_every_tag(model: LearnedScreener, text: str) -> None:
    tagged = [f"{text} [{repeat}]" for repeat in range(1, UNIQUE_REPEATS + 1)]
    readings = _reading(model, tagged)
    assert len(set(readings)) == 1, dict(zip(tagged, readings, strict=True))
