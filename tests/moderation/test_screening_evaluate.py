"""python -m moderation.evaluate: its figures, its last-line JSON, its refusals of bad input,
and its promise never to print a dataset's texts."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from moderation.evaluate import main

PROJECT = Path(__file__).resolve().parents[2]
JSON_KEYS = ["detector", "n", "precision", "recall", "f1", "false_positive_rate"]

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


def test_figures_and_the_last_json_line(tmp_path, capsys):
    path = write_csv(tmp_path / "labelled.csv", ROWS)
    code, out, _ = run(capsys, "--detector", "harassment", "--csv", str(path),
                       "--text-column", "tweet", "--label-column", "label", "--positive", "OFF")
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


def test_dataset_texts_are_never_printed(tmp_path, capsys):
    path = write_csv(tmp_path / "labelled.csv", ROWS)
    _, out, err = run(capsys, "--detector", "harassment", "--csv", str(path), "--text-column",
                      "tweet", "--label-column", "label", "--positive", "OFF")
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
         str(path), "--text-column", "tweet", "--label-column", "label", "--positive", "OFF"],
        cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 0, finished.stderr
    assert list(json.loads(finished.stdout.strip().splitlines()[-1]))[:6] == JSON_KEYS
    failed = subprocess.run(
        [sys.executable, "-m", "moderation.evaluate", "--detector", "nope", "--csv", str(path),
         "--text-column", "tweet", "--label-column", "label", "--positive", "OFF"],
        cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=60, check=False)
    assert failed.returncode == 2 and "unknown detector" in failed.stderr


def test_rows_even_and_odd_split_the_file_in_two(tmp_path, capsys):
    # Rows 0, 2, 4 are even: "pathetic idiot" (TP), "this day was shit" (FN), "see you
    # tomorrow" (TN); rows 1, 3, 5 are odd: "shut up loser" (TP), "locked myself out" (TN),
    # "ok clown" (FP).
    path = write_csv(tmp_path / "labelled.csv", ROWS)
    arguments = ["--detector", "harassment", "--csv", str(path), "--text-column", "tweet",
                 "--label-column", "label", "--positive", "OFF"]
    figures = {}
    for rows in ("even", "odd", "all"):
        code, out, _ = run(capsys, *arguments, "--rows", rows)
        assert code == 0
        figures[rows] = json.loads(out.strip().splitlines()[-1])
        assert list(figures[rows])[:6] == JSON_KEYS and figures[rows]["rows"] == rows
    counts = {rows: (f["tp"], f["fp"], f["fn"], f["tn"]) for rows, f in figures.items()}
    assert counts == {"even": (1, 0, 1, 1), "odd": (1, 1, 0, 1), "all": (2, 1, 1, 2)}
    _, out, _ = run(capsys, *arguments)
    assert json.loads(out.strip().splitlines()[-1]) == figures["all"]  # all is the default
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
