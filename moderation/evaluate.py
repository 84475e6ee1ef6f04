"""Measure one screening detector against a labelled CSV.

    python -m moderation.evaluate --detector harassment --csv PATH --text-column tweet \\
        --label-column subtask_a --positive OFF [--positive …] [--max-chars N] \\
        [--rows all|even|odd]

A row counts as flagged when the detector raises any signal for its text, and as positive
when its label is one of the --positive values. ``--rows even`` or ``--rows odd`` keeps only
the data rows at even or odd positions (the first data row is row 0), so a detector can be
tuned on one half and measured on the other, held out. Prints a summary (confusion matrix, signal
kinds) and then one JSON line with the figures, always last and always starting with the keys
detector, n, precision, recall, f1, false_positive_rate, so scripts can read it.

Dataset texts are never printed: they are real people's words, some of them minors'.
Runs without Django settings: screening is pure Python.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from moderation.screening.normalize import normalize_text
from moderation.screening.registry import DETECTORS, Detector, UnknownDetectorError, get_detector
from moderation.screening.types import ScreeningContext

EXIT_BAD_INPUT = 2


class EvaluationInputError(Exception):
    """Input the evaluation cannot run on; the message says what to fix."""


class RowSelection(StrEnum):
    """Which data rows to use, by position (the first data row is row 0)."""

    ALL = "all"
    EVEN = "even"
    ODD = "odd"

    def keeps(self, position: int) -> bool:
        if self is RowSelection.ALL:
            return True
        return position % 2 == (0 if self is RowSelection.EVEN else 1)


@dataclass(frozen=True)
class Evaluation:
    detector: str
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    kinds: Counter[str]
    rows: RowSelection = RowSelection.ALL

    @property
    def n(self) -> int:
        return (self.true_positives + self.false_positives + self.false_negatives
                + self.true_negatives)

    @property
    def precision(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def f1(self) -> float:
        return _ratio(2 * self.precision * self.recall, self.precision + self.recall)

    @property
    def false_positive_rate(self) -> float:
        return _ratio(self.false_positives, self.false_positives + self.true_negatives)

    def figures(self) -> dict[str, object]:
        """The final JSON line: these keys first, in this order, then the counts."""
        return {
            "detector": self.detector,
            "n": self.n,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "false_positive_rate": round(self.false_positive_rate, 4),
            "tp": self.true_positives,
            "fp": self.false_positives,
            "fn": self.false_negatives,
            "tn": self.true_negatives,
            "rows": str(self.rows),
        }


def _ratio(numerator: float, denominator: float) -> float:
    # An undefined ratio (nothing flagged, no positives) is reported as 0, not as an error.
    return numerator / denominator if denominator else 0.0


def evaluate_csv(*, detector_name: str, csv_path: Path, text_column: str, label_column: str,
                 positive_labels: frozenset[str], max_chars: int | None = None,
                 rows: RowSelection = RowSelection.ALL) -> Evaluation:
    try:
        detector = get_detector(detector_name)
    except UnknownDetectorError as error:
        raise EvaluationInputError(str(error)) from None
    if not csv_path.is_file():
        raise EvaluationInputError(f"no such file: {csv_path}")
    context = ScreeningContext()
    counts: Counter[tuple[bool, bool]] = Counter()
    kinds: Counter[str] = Counter()
    # Some datasets hold posts longer than the csv module's default field limit.
    csv.field_size_limit(2**31 - 1)
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            for column in (text_column, label_column):
                if column not in columns:
                    raise EvaluationInputError(
                        f"{csv_path} has no column {column!r}; columns: {', '.join(columns)}")
            for position, row in enumerate(reader):
                if not rows.keeps(position):
                    continue
                text = row[text_column] or ""
                if max_chars is not None:
                    text = text[:max_chars]
                signal_kinds = _signal_kinds(detector, text, context)
                kinds.update(signal_kinds)
                counts[(bool(signal_kinds), (row[label_column] or "") in positive_labels)] += 1
    except (UnicodeDecodeError, csv.Error) as error:
        raise EvaluationInputError(f"cannot read {csv_path} as UTF-8 CSV: {error}") from None
    if not counts:
        which = "" if rows is RowSelection.ALL else f"{rows} "
        raise EvaluationInputError(f"{csv_path} has no {which}data rows")
    return Evaluation(detector=detector_name, true_positives=counts[(True, True)],
                      false_positives=counts[(True, False)],
                      false_negatives=counts[(False, True)],
                      true_negatives=counts[(False, False)], kinds=kinds, rows=rows)


def _signal_kinds(detector: Detector, text: str, context: ScreeningContext) -> list[str]:
    return [str(signal.kind) for signal in detector(text=normalize_text(text), context=context)]


def summary_lines(evaluation: Evaluation, *, positive_labels: frozenset[str]) -> list[str]:
    positives = evaluation.true_positives + evaluation.false_negatives
    lines = [
        f"detector {evaluation.detector}: {evaluation.n} rows"
        f"{'' if evaluation.rows is RowSelection.ALL else f' ({evaluation.rows} rows only)'}, "
        f"{positives} positive "
        f"(labels {', '.join(sorted(positive_labels))}), "
        f"{evaluation.true_positives + evaluation.false_positives} flagged",
        "",
        "                 flagged   not flagged",
        f"  positive     {evaluation.true_positives:8d}   {evaluation.false_negatives:11d}",
        f"  negative     {evaluation.false_positives:8d}   {evaluation.true_negatives:11d}",
        "",
        f"  precision {evaluation.precision:.3f}  recall {evaluation.recall:.3f}  "
        f"f1 {evaluation.f1:.3f}  false positive rate {evaluation.false_positive_rate:.3f}",
    ]
    if evaluation.kinds:
        lines.append("  signals by kind: " + ", ".join(
            f"{kind} {count}" for kind, count in evaluation.kinds.most_common()))
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m moderation.evaluate",
        description="Measure one screening detector against a labelled CSV. "
                    "Never prints the dataset's texts.")
    parser.add_argument("--detector", required=True, help=f"one of: {', '.join(DETECTORS)}")
    parser.add_argument("--csv", required=True, type=Path, help="UTF-8 CSV with a header row")
    parser.add_argument("--text-column", required=True)
    parser.add_argument("--label-column", required=True)
    parser.add_argument("--positive", required=True, action="append",
                        help="a label value that means the detector should flag the row "
                             "(repeat for several)")
    parser.add_argument("--max-chars", type=_positive_int, default=None,
                        help="screen only the first N characters of each text")
    parser.add_argument("--rows", type=RowSelection, default=RowSelection.ALL,
                        choices=list(RowSelection),
                        help="use all data rows, or only those at even or odd positions "
                             "(the first data row is row 0): tune on one half, report the "
                             "other as held out")
    return parser


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)  # bad arguments: argparse exits with code 2
    positive_labels = frozenset(arguments.positive)
    try:
        evaluation = evaluate_csv(detector_name=arguments.detector, csv_path=arguments.csv,
                                  text_column=arguments.text_column,
                                  label_column=arguments.label_column,
                                  positive_labels=positive_labels,
                                  max_chars=arguments.max_chars, rows=arguments.rows)
    except EvaluationInputError as error:
        print(f"evaluate: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for line in summary_lines(evaluation, positive_labels=positive_labels):
        print(line)
    print(json.dumps(evaluation.figures()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
