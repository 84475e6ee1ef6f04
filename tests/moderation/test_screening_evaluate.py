"""python -m moderation.evaluate: its figures, its last-line JSON, its refusals of bad input,
and its promise never to print a dataset's texts."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from moderation.evaluate import MODEL_BATCH_SIZE, main
from moderation.screening.types import DetectorName, Rule, Severity, Signal, SignalKind

PROJECT = Path(__file__).resolve().parents[2]
JSON_KEYS = ["detector", "n", "precision", "recall", "f1", "false_positive_rate"]
TIMING_KEYS = ["ms_per_message_median", "ms_per_message_p99", "rules_ms_per_message_median",
               "rules_ms_per_message_p99", "model_ms_per_message_median",
               "model_ms_per_message_p99"]

ROWS = [  # (text, label): written for these tests
    ("you're a pathetic idiot", "OFF"),  # flagged, positive
    ("shut up loser", "OFF"),  # flagged, positive
    ("this day was absolute shit", "OFF"),  # not flagged: profanity without a target
    ("I'm such an idiot, I locked myself out", "NOT"),  # not flagged
    ("thank you all, see you tomorrow", "NOT"),  # not flagged
    ("ok clown", "NOT"),  # flagged, negative
]


def write_csv(path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("tweet", "label"),
              ) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def last_json(out: str) -> dict[str, Any]:
    return json.loads(out.strip().splitlines()[-1])


def without_times(figures: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in figures.items() if key not in TIMING_KEYS}


def crisis_signal(kind: SignalKind) -> Signal:
    return Signal(detector=DetectorName.CRISIS, kind=kind, rule=Rule.CRISIS_SUPPORT,
                  severity=Severity.HIGH)


# A rules miss the model catches: no word the crisis rules know, a wish not to be here.
NOT_HERE = "i keep thinking everyone would be better off if i just wasnt here anymore"
INSULT_WITH_DISTRESS_WORDS = "you are a pathetic idiot, nobody cares about you"
# What the fake model raises for each text (texts not listed: nothing).
MODEL_READS: dict[str, list[Signal]] = {
    NOT_HERE: [crisis_signal(SignalKind.HIGH_RISK)],
    # Below the rules' own high_risk: the model never lowers or repeats a rules tier.
    "i want to die": [crisis_signal(SignalKind.CONCERN)],
    # Another detector's signal: not counted when crisis is scored.
    "had a lovely walk with the dog today": [Signal(
        detector=DetectorName.HARASSMENT, kind=SignalKind.INSULT, rule=Rule.RESPECT,
        severity=Severity.HIGH)],
    # The harassment rules flag it, so in production the model's distress reading is not
    # added (combine: an aimed insult is not its author's distress).
    INSULT_WITH_DISTRESS_WORDS: [crisis_signal(SignalKind.CONCERN)],
}


class FakeScreener:
    """Stands in for LearnedScreener: reads MODEL_READS, and records how it was called."""

    version = "fake-1"
    loaded: list[FakeScreener] = []

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.batches: list[int] = []
        FakeScreener.loaded.append(self)

    def signals(self, texts):
        self.batches.append(len(texts))
        return [list(MODEL_READS.get(text, [])) for text in texts]


@pytest.fixture
def fake_model(monkeypatch) -> list[FakeScreener]:
    """The screeners the evaluation loaded, each a FakeScreener."""
    monkeypatch.setattr(FakeScreener, "loaded", [])
    monkeypatch.setattr("moderation.screening.learned.LearnedScreener", FakeScreener)
    return FakeScreener.loaded


def test_figures_and_the_last_json_line(tmp_path, capsys):
    path = write_csv(tmp_path / "labelled.csv", ROWS)
    code, out, _ = run(capsys, "--detector", "harassment", "--csv", str(path),
                       "--text-column", "tweet", "--label-column", "label", "--positive", "OFF",
                       "--rules-only")
    assert code == 0
    last = json.loads(out.strip().splitlines()[-1])
    assert list(last)[:6] == JSON_KEYS
    assert last["detector"] == "harassment" and last["n"] == 6
    assert (last["tp"], last["fp"], last["fn"], last["tn"]) == (2, 1, 1, 2)
    assert last["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert last["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert last["f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert last["false_positive_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert "signals by kind: insult 3" in out


def test_several_positive_labels_and_max_chars(tmp_path, capsys):
    rows = [("hi there, nice to meet you. text me on +44 7700 900123", "phone"),
            ("my email is sam@example.com", "email"),
            ("nothing to see", "none")]
    path = write_csv(tmp_path / "pii.csv", rows, header=("text", "kind"))
    arguments = ["--detector", "contact", "--csv", str(path), "--text-column", "text",
                 "--label-column", "kind", "--positive", "phone", "--positive", "email"]
    _, out, _ = run(capsys, *arguments)
    assert json.loads(out.splitlines()[-1])["recall"] == 1.0
    _, out, _ = run(capsys, *arguments, "--max-chars", "20")
    assert json.loads(out.splitlines()[-1])["recall"] == 0.5  # the phone number is cut off


@pytest.mark.parametrize("scoring", [["--rules-only"], []])
def test_dataset_texts_are_never_printed(tmp_path, capsys, fake_model, scoring):
    path = write_csv(tmp_path / "labelled.csv", ROWS)
    code, out, err = run(capsys, "--detector", "harassment", "--csv", str(path),
                         "--text-column", "tweet", "--label-column", "label", "--positive", "OFF",
                         *scoring)
    assert code == 0
    for text, _ in ROWS:
        assert text not in out and text not in err
    for word in ("idiot", "loser", "clown", "pathetic"):
        assert word not in out


@pytest.mark.parametrize(("problem", "arguments", "message"), [
    ("missing file", ["--csv", "{tmp}/nope.csv"], "no such file"),
    ("missing text column", ["--text-column", "body"], "no column 'body'"),
    ("missing label column", ["--label-column", "class"], "no column 'class'"),
    ("unknown detector", ["--detector", "sentiment"], "unknown detector 'sentiment'"),
    ("empty file", ["--csv", "{tmp}/empty.csv"], "no column 'tweet'"),
    ("header only", ["--csv", "{tmp}/header.csv"], "no data rows"),
])
def test_bad_input_exits_2_with_a_message(tmp_path, capsys, problem, arguments, message):
    write_csv(tmp_path / "labelled.csv", ROWS)
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    write_csv(tmp_path / "header.csv", [])
    defaults = {"--detector": "harassment", "--csv": str(tmp_path / "labelled.csv"),
                "--text-column": "tweet", "--label-column": "label", "--positive": "OFF"}
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        defaults[flag] = value.format(tmp=tmp_path)
    code, out, err = run(capsys, *[item for pair in defaults.items() for item in pair])
    assert code == 2, problem
    assert message in err and out == ""


def test_missing_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--detector", "contact"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        main(["--detector", "contact", "--csv", "x.csv", "--text-column", "t",
              "--label-column", "l", "--positive", "1", "--max-chars", "0"])
    assert exited.value.code == 2


def test_runs_as_a_module_without_django_settings(tmp_path):
    path = write_csv(tmp_path / "labelled.csv", ROWS)
    environment = {key: value for key, value in os.environ.items()
                   if key != "DJANGO_SETTINGS_MODULE"}
    finished = subprocess.run(
        [sys.executable, "-m", "moderation.evaluate", "--detector", "harassment", "--csv",
         str(path), "--text-column", "tweet", "--label-column", "label", "--positive", "OFF",
         "--rules-only"],
        cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 0, finished.stderr
    assert list(json.loads(finished.stdout.strip().splitlines()[-1]))[:6] == JSON_KEYS
    failed = subprocess.run(
        [sys.executable, "-m", "moderation.evaluate", "--detector", "nope", "--csv", str(path),
         "--text-column", "tweet", "--label-column", "label", "--positive", "OFF"],
        cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=60, check=False)
    assert failed.returncode == 2 and "unknown detector" in failed.stderr
    without_model = subprocess.run(
        [sys.executable, "-m", "moderation.evaluate", "--detector", "harassment", "--csv",
         str(path), "--text-column", "tweet", "--label-column", "label", "--positive", "OFF",
         "--model-dir", str(tmp_path)],
        cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=60, check=False)
    assert without_model.returncode == 2 and without_model.stdout == ""
    assert "learned detector did not load" in without_model.stderr


def test_rows_even_and_odd_split_the_file_in_two(tmp_path, capsys):
    # Rows 0, 2, 4 are even: "pathetic idiot" (TP), "this day was shit" (FN), "see you
    # tomorrow" (TN); rows 1, 3, 5 are odd: "shut up loser" (TP), "locked myself out" (TN),
    # "ok clown" (FP).
    path = write_csv(tmp_path / "labelled.csv", ROWS)
    arguments = ["--detector", "harassment", "--csv", str(path), "--text-column", "tweet",
                 "--label-column", "label", "--positive", "OFF", "--rules-only"]
    figures = {}
    for rows in ("even", "odd", "all"):
        code, out, _ = run(capsys, *arguments, "--rows", rows)
        assert code == 0
        figures[rows] = json.loads(out.strip().splitlines()[-1])
        assert list(figures[rows])[:6] == JSON_KEYS and figures[rows]["rows"] == rows
    counts = {rows: (f["tp"], f["fp"], f["fn"], f["tn"]) for rows, f in figures.items()}
    assert counts == {"even": (1, 0, 1, 1), "odd": (1, 1, 0, 1), "all": (2, 1, 1, 2)}
    _, out, _ = run(capsys, *arguments)
    # all is the default (the times differ from run to run)
    assert without_times(json.loads(out.strip().splitlines()[-1])) == without_times(
        figures["all"])
    _, out, _ = run(capsys, *arguments, "--rows", "odd")
    assert "3 rows (odd rows only)" in out


def test_rows_bad_input(tmp_path, capsys):
    path = write_csv(tmp_path / "one.csv", [("shut up loser", "OFF")])
    arguments = ["--detector", "harassment", "--csv", str(path), "--text-column", "tweet",
                 "--label-column", "label", "--positive", "OFF"]
    code, out, err = run(capsys, *arguments, "--rows", "odd")  # a single row is row 0
    assert code == 2 and out == "" and "has no odd data rows" in err
    for value in ("half", "", "EVEN", "1"):
        with pytest.raises(SystemExit) as exited:
            main([*arguments, "--rows", value])
        assert exited.value.code == 2
    assert "--rows" in capsys.readouterr().err


CRISIS_ROWS = [  # (text, tier): written for these tests; the crisis rules' reading in comments
    ("i want to kill myself tonight, i have the pills ready", "imminent"),  # imminent
    ("i want to die", "high_risk"),  # high_risk
    ("i feel so hopeless and alone, nothing matters anymore and i cant cope", "concern"),
    ("had a lovely walk with the dog today", "none"),  # nothing
]


def crisis_arguments(path: Path, *positives: str) -> list[str]:
    return ["--detector", "crisis", "--csv", str(path), "--text-column", "text",
            "--label-column", "tier", *[item for p in positives for item in ("--positive", p)]]


def test_kinds_count_only_those_signal_kinds(tmp_path, capsys):
    path = write_csv(tmp_path / "crisis.csv", CRISIS_ROWS, header=("text", "tier"))
    counts = {}
    for positives, kinds in [(("imminent",), []), (("imminent",), ["imminent"]),
                             (("high_risk", "imminent"), ["high_risk", "imminent"])]:
        arguments = [*crisis_arguments(path, *positives), "--rules-only"]
        code, out, _ = run(capsys, *arguments, *(["--kinds", *kinds] if kinds else []))
        assert code == 0
        figures = last_json(out)
        assert figures["kinds"] == (kinds or None)
        counts[(positives, tuple(kinds))] = (figures["tp"], figures["fp"], figures["fn"],
                                             figures["tn"])
        # Every signal is still counted by kind, whichever kinds count as flagged.
        assert "signals by kind: " in out and "concern 1" in out
    assert counts == {
        (("imminent",), ()): (1, 2, 0, 1),  # any signal: high_risk and concern are flagged
        (("imminent",), ("imminent",)): (1, 0, 0, 3),
        (("high_risk", "imminent"), ("high_risk", "imminent")): (2, 0, 0, 2),
    }
    _, out, _ = run(capsys, *crisis_arguments(path, "imminent"), "--rules-only",
                    "--kinds", "imminent")
    assert "flagged on kinds imminent" in out


@pytest.mark.parametrize("kinds", [["imminnent"], ["high_risk", "suicide"]])
def test_an_unknown_kind_exits_2_listing_the_known_ones(tmp_path, capsys, kinds):
    path = write_csv(tmp_path / "crisis.csv", CRISIS_ROWS, header=("text", "tier"))
    with pytest.raises(SystemExit) as exited:
        main([*crisis_arguments(path, "imminent"), "--kinds", *kinds])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"unknown signal kind {kinds[-1]!r}" in captured.err
    assert all(kind in captured.err for kind in SignalKind)
    with pytest.raises(SystemExit) as exited:
        main([*crisis_arguments(path, "imminent"), "--kinds"])  # at least one kind
    assert exited.value.code == 2


def test_as_deployed_adds_what_the_model_catches_and_rules_only_does_not(tmp_path, capsys,
                                                                         fake_model):
    rows = [(NOT_HERE, "high_risk"), ("i want to die", "high_risk"),
            (INSULT_WITH_DISTRESS_WORDS, "none"), ("had a lovely walk with the dog today", "none")]
    path = write_csv(tmp_path / "crisis.csv", rows, header=("text", "tier"))
    arguments = crisis_arguments(path, "high_risk", "imminent")

    code, out, _ = run(capsys, *arguments, "--rules-only")
    assert code == 0 and fake_model == []  # the rules alone: the model is not even loaded
    rules_only = last_json(out)
    assert (rules_only["tp"], rules_only["fp"], rules_only["fn"], rules_only["tn"]) == (
        1, 0, 1, 2)
    assert rules_only["scoring"] == "rules_only" and rules_only["model_version"] is None
    assert "scored rules only" in out

    code, out, _ = run(capsys, *arguments)  # as deployed is the default
    assert code == 0 and len(fake_model) == 1
    deployed = last_json(out)
    assert list(deployed)[:6] == JSON_KEYS
    # NOT_HERE is now caught; the model's concern beside the rules' high_risk, its insult
    # (harassment, not crisis) and its distress reading of an aimed insult add nothing.
    assert (deployed["tp"], deployed["fp"], deployed["fn"], deployed["tn"]) == (2, 0, 0, 2)
    assert deployed["scoring"] == "as_deployed" and deployed["model_version"] == "fake-1"
    assert (deployed["model_only_tp"], deployed["model_only_fp"]) == (1, 0)
    assert "rules + learned model fake-1" in out
    assert "added by the model: high_risk 1; rows flagged only thanks to it: 1 positive, " \
           "0 negative" in out


def test_the_model_is_loaded_once_and_reads_in_batches_of_32(tmp_path, capsys, fake_model):
    rows = [(f"message number {i}", "none") for i in range(2 * MODEL_BATCH_SIZE + 6)]
    path = write_csv(tmp_path / "many.csv", rows, header=("text", "tier"))
    code, _, _ = run(capsys, *crisis_arguments(path, "high_risk"))
    assert code == 0
    [screener] = fake_model
    assert MODEL_BATCH_SIZE == 32
    assert screener.batches == [32, 32, 6]


def test_detectors_the_model_does_not_cover_are_their_rules_as_deployed(tmp_path, capsys,
                                                                         fake_model):
    path = write_csv(tmp_path / "pii.csv", [("my email is sam@example.com", "email")],
                     header=("text", "kind"))
    code, out, _ = run(capsys, "--detector", "contact", "--csv", str(path), "--text-column",
                       "text", "--label-column", "kind", "--positive", "email")
    assert code == 0 and fake_model == []
    figures = last_json(out)
    assert figures["scoring"] == "as_deployed" and figures["model_version"] is None
    assert "the learned model does not cover this detector" in out


def test_a_missing_model_exits_2_unless_rules_only(tmp_path, capsys, monkeypatch):
    empty = tmp_path / "no-model"
    empty.mkdir()
    monkeypatch.setattr("moderation.screening.learned.MODEL_DIR", empty)
    path = write_csv(tmp_path / "labelled.csv", ROWS)
    arguments = ["--detector", "harassment", "--csv", str(path), "--text-column", "tweet",
                 "--label-column", "label", "--positive", "OFF"]
    code, out, err = run(capsys, *arguments)
    assert code == 2 and out == ""
    assert "the learned detector did not load" in err and str(empty) in err
    assert "--rules-only" in err
    code, out, err = run(capsys, *arguments, "--model-dir", str(empty))
    assert code == 2 and out == "" and "did not load" in err
    code, out, _ = run(capsys, *arguments, "--rules-only")
    assert code == 0 and last_json(out)["scoring"] == "rules_only"


def test_times_per_message_are_in_the_json(tmp_path, capsys, fake_model):
    path = write_csv(tmp_path / "crisis.csv", CRISIS_ROWS, header=("text", "tier"))
    _, out, _ = run(capsys, *crisis_arguments(path, "imminent"))
    deployed = last_json(out)
    assert list(deployed)[:6] == JSON_KEYS
    assert all(isinstance(deployed[key], float) and deployed[key] >= 0 for key in TIMING_KEYS)
    # Each message's total is its rules time plus its share of the model's batch.
    assert deployed["ms_per_message_median"] >= deployed["rules_ms_per_message_median"]
    assert deployed["ms_per_message_p99"] >= deployed["rules_ms_per_message_p99"]
    assert "ms per message (median / p99): rules " in out and ", model " in out
    _, out, _ = run(capsys, *crisis_arguments(path, "imminent"), "--rules-only")
    rules_only = last_json(out)
    assert rules_only["model_ms_per_message_median"] is None
    assert rules_only["model_ms_per_message_p99"] is None
    assert rules_only["ms_per_message_median"] == rules_only["rules_ms_per_message_median"]


def test_a_tab_separated_file_without_quoting(tmp_path, capsys):
    # OLID's training TSV: tabs between fields, and quote characters that are only text.
    path = tmp_path / "olid.tsv"
    path.write_text('id\ttweet\tsubtask_a\n1\t"shut up loser\tOFF\n'
                    '2\tthank you all, see "you" tomorrow\tNOT\n', encoding="utf-8")
    arguments = ["--detector", "harassment", "--csv", str(path), "--text-column", "tweet",
                 "--label-column", "subtask_a", "--positive", "OFF", "--rules-only"]
    code, out, _ = run(capsys, *arguments, "--delimiter", "tab", "--quoting", "none")
    assert code == 0
    figures = last_json(out)
    assert (figures["n"], figures["tp"], figures["tn"]) == (2, 1, 1)
    code, out, err = run(capsys, *arguments)  # read as CSV: one column named with tabs
    assert code == 2 and out == "" and "pass --delimiter tab" in err
    for bad in (["--delimiter", "tabs"], ["--delimiter", ""], ["--quoting", "all"]):
        with pytest.raises(SystemExit) as exited:
            main([*arguments, *bad])
        assert exited.value.code == 2
