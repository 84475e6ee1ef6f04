"""Measure one screening detector against a labelled CSV, as production runs it.

    python -m moderation.evaluate --detector crisis --csv PATH --text-column text \\
        --label-column tier --positive high_risk --positive imminent \\
        [--kinds KIND …] [--rules-only] [--model-dir DIR] [--max-chars N] \\
        [--rows all|even|odd] [--delimiter ,|tab] [--quoting minimal|none]

By default a detector is scored **as deployed**: its rules (``screen_message`` with that
detector alone) plus, for the detectors the learned model covers (crisis, harassment), the
signals of that detector the model adds to the rules (``combine.added_by_model``, given every
detector's rules signals, as the worker is). The model is loaded once and reads the texts in
batches of 32. If it cannot load, the command says so and exits 2: a figure for the rules
alone must be asked for with ``--rules-only``, never passed off as the model's.

A row counts as flagged when a signal of the detector is raised for its text (with
``--kinds``, only a signal of one of those kinds), and as positive when its label is one of
the --positive values. ``--rows even`` or ``--rows odd`` keeps only the data rows at even or
odd positions (the first data row is row 0), so a detector can be tuned on one half and
measured on the other, held out. Prints a summary (confusion matrix, signal kinds, what the
model added, time per message) and then one JSON line with the figures, always last and
always starting with the keys detector, n, precision, recall, f1, false_positive_rate, so
scripts can read it.

Dataset texts are never printed: they are real people's words, some of them minors'.
Runs without Django settings: screening is pure Python, and the learned detector is loaded
only when it is scored (so --rules-only needs neither numpy nor onnxruntime).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final, Literal, Protocol

from moderation.screening import screen_message
from moderation.screening.combine import added_by_model
from moderation.screening.registry import DETECTORS, UnknownDetectorError, get_detector
from moderation.screening.types import DetectorName, ScreeningContext, Signal, SignalKind

EXIT_BAD_INPUT = 2
# Texts the model reads per call, as the evaluation's batch (the worker's is smaller and
# fills only under load; per-message time is the batch's time over its size either way).
MODEL_BATCH_SIZE: Final = 32
# The detectors whose signals the learned model raises (learned.signals_for).
MODEL_DETECTORS: Final = frozenset({DetectorName.CRISIS, DetectorName.HARASSMENT})


class EvaluationInputError(Exception):
    """Input the evaluation cannot run on; the message says what to fix."""


class ModelNotLoadedError(EvaluationInputError):
    """Scoring as deployed needs the learned model, and it did not load."""


class RowSelection(StrEnum):
    """Which data rows to use, by position (the first data row is row 0)."""

    ALL = "all"
    EVEN = "even"
    ODD = "odd"

    def keeps(self, position: int) -> bool:
        if self is RowSelection.ALL:
            return True
        return position % 2 == (0 if self is RowSelection.EVEN else 1)


class Scoring(StrEnum):
    AS_DEPLOYED = "as_deployed"  # the rules plus what the model adds, where it covers them
    RULES_ONLY = "rules_only"


class Quoting(StrEnum):
    """How quote characters in the file are read."""

    MINIMAL = "minimal"  # CSV's usual quoting
    NONE = "none"  # quotes are text (OLID's training TSV has unbalanced ones)

    @property
    def csv_constant(self) -> Literal[0, 1, 2, 3]:
        return csv.QUOTE_NONE if self is Quoting.NONE else csv.QUOTE_MINIMAL


@dataclass(frozen=True)
class FileFormat:
    delimiter: str = ","
    quoting: Quoting = Quoting.MINIMAL


class ModelScreener(Protocol):
    """What the evaluation needs of moderation.screening.learned.LearnedScreener."""

    version: str

    def signals(self, texts: Sequence[str]) -> list[list[Signal]]: ...


@dataclass(frozen=True)
class Timing:
    """Milliseconds per message."""

    median_ms: float
    p99_ms: float

    @classmethod
    def of(cls, milliseconds: Sequence[float]) -> Timing:
        ordered = sorted(milliseconds)
        # Nearest rank: the smallest time at or above 99 % of the messages' times.
        p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
        return cls(median_ms=statistics.median(ordered), p99_ms=p99)


@dataclass(frozen=True)
class Timings:
    rules: Timing
    model: Timing | None  # None when the model did not read (rules only, or not covered)
    total: Timing  # per message, rules plus the message's share of its model batch

    def figures(self) -> dict[str, float | None]:
        return {**_timing_figures("", self.total), **_timing_figures("rules_", self.rules),
                **_timing_figures("model_", self.model)}


def _timing_figures(prefix: str, timing: Timing | None) -> dict[str, float | None]:
    return {f"{prefix}ms_per_message_median":
            None if timing is None else round(timing.median_ms, 4),
            f"{prefix}ms_per_message_p99": None if timing is None else round(timing.p99_ms, 4)}


@dataclass(frozen=True)
class Evaluation:
    detector: str
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    kinds: Counter[str]
    rows: RowSelection = RowSelection.ALL
    scoring: Scoring = Scoring.RULES_ONLY
    # The kinds that count as flagged; None: any signal of the detector.
    counted_kinds: frozenset[SignalKind] | None = None
    # The learned model's version when it read the texts, else None.
    model_version: str | None = None
    # Signals the model added to the rules', by kind.
    model_kinds: Counter[str] = field(default_factory=Counter)
    # Rows flagged only because of what the model added: (positive, negative).
    flagged_by_model_only: tuple[int, int] = (0, 0)
    timings: Timings | None = None

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
            "scoring": str(self.scoring),
            "kinds": None if self.counted_kinds is None else sorted(self.counted_kinds),
            "model_version": self.model_version,
            "model_only_tp": self.flagged_by_model_only[0],
            "model_only_fp": self.flagged_by_model_only[1],
            **(self.timings.figures() if self.timings is not None else {}),
        }


def _ratio(numerator: float, denominator: float) -> float:
    # An undefined ratio (nothing flagged, no positives) is reported as 0, not as an error.
    return numerator / denominator if denominator else 0.0


@dataclass(frozen=True)
class LabelledText:
    text: str
    positive: bool


def evaluate_csv(*, detector_name: str, csv_path: Path, text_column: str, label_column: str,
                 positive_labels: frozenset[str], max_chars: int | None = None,
                 rows: RowSelection = RowSelection.ALL,
                 scoring: Scoring = Scoring.AS_DEPLOYED,
                 counted_kinds: frozenset[SignalKind] | None = None,
                 model_dir: Path | None = None,
                 file_format: FileFormat = FileFormat()) -> Evaluation:
    """Raises EvaluationInputError (ModelNotLoadedError when scoring as deployed needs the
    model and it does not load from `model_dir`, by default the deployed one)."""
    try:
        get_detector(detector_name)
    except UnknownDetectorError as error:
        raise EvaluationInputError(str(error)) from None
    labelled = read_labelled(csv_path=csv_path, text_column=text_column,
                             label_column=label_column, positive_labels=positive_labels,
                             max_chars=max_chars, rows=rows, file_format=file_format)
    model = (load_model(model_dir) if scoring is Scoring.AS_DEPLOYED
             and detector_name in MODEL_DETECTORS else None)
    texts = [row.text for row in labelled]
    rules, rules_ms = _rules_signals(detector_name, texts)
    added: list[list[Signal]] = [[] for _ in texts]
    model_ms: list[float] | None = None
    if model is not None:
        added, model_ms = _model_additions(model, detector_name, texts, rules)

    def flags(signals: Sequence[Signal]) -> bool:
        return any(counted_kinds is None or signal.kind in counted_kinds for signal in signals)

    counts: Counter[tuple[bool, bool]] = Counter()
    kinds: Counter[str] = Counter()
    model_kinds: Counter[str] = Counter()
    model_only: Counter[bool] = Counter()
    for row, rules_signals, model_signals in zip(labelled, rules, added, strict=True):
        flagged = flags([*rules_signals, *model_signals])
        kinds.update(str(signal.kind) for signal in (*rules_signals, *model_signals))
        model_kinds.update(str(signal.kind) for signal in model_signals)
        counts[(flagged, row.positive)] += 1
        if flagged and not flags(rules_signals):
            model_only[row.positive] += 1
    totals = (rules_ms if model_ms is None
              else [rule + read for rule, read in zip(rules_ms, model_ms, strict=True)])
    return Evaluation(
        detector=detector_name, true_positives=counts[(True, True)],
        false_positives=counts[(True, False)], false_negatives=counts[(False, True)],
        true_negatives=counts[(False, False)], kinds=kinds, rows=rows, scoring=scoring,
        counted_kinds=counted_kinds,
        model_version=None if model is None else model.version, model_kinds=model_kinds,
        flagged_by_model_only=(model_only[True], model_only[False]),
        timings=Timings(rules=Timing.of(rules_ms),
                        model=None if model_ms is None else Timing.of(model_ms),
                        total=Timing.of(totals)))


def read_labelled(*, csv_path: Path, text_column: str, label_column: str,
                  positive_labels: frozenset[str], max_chars: int | None,
                  rows: RowSelection, file_format: FileFormat) -> list[LabelledText]:
    """The selected rows' texts (cut to max_chars) and whether each is positive."""
    if not csv_path.is_file():
        raise EvaluationInputError(f"no such file: {csv_path}")
    labelled: list[LabelledText] = []
    # Some datasets hold posts longer than the csv module's default field limit.
    csv.field_size_limit(2**31 - 1)
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle, delimiter=file_format.delimiter,
                                    quoting=file_format.quoting.csv_constant)
            columns = reader.fieldnames or []
            for column in (text_column, label_column):
                if column not in columns:
                    raise EvaluationInputError(
                        f"{csv_path} has no column {column!r}; columns: {', '.join(columns)}"
                        + _delimiter_hint(columns, file_format))
            for position, row in enumerate(reader):
                if not rows.keeps(position):
                    continue
                text = row[text_column] or ""
                if max_chars is not None:
                    text = text[:max_chars]
                labelled.append(LabelledText(
                    text=text, positive=(row[label_column] or "") in positive_labels))
    except (UnicodeDecodeError, csv.Error) as error:
        raise EvaluationInputError(f"cannot read {csv_path} as UTF-8 CSV: {error}") from None
    if not labelled:
        which = "" if rows is RowSelection.ALL else f"{rows} "
        raise EvaluationInputError(f"{csv_path} has no {which}data rows")
    return labelled


def _delimiter_hint(columns: Sequence[str], file_format: FileFormat) -> str:
    # A TSV read as CSV has one column whose name holds tabs (the names are safe to print).
    if file_format.delimiter != "\t" and any("\t" in column for column in columns):
        return " (a tab-separated file? pass --delimiter tab)"
    return ""


def load_model(directory: Path | None) -> ModelScreener:
    """The learned detector, from `directory` or the deployed model's directory."""
    try:
        # Imported here: numpy and onnxruntime are needed only when the model is scored.
        from moderation.screening import learned
    except ImportError as error:
        raise ModelNotLoadedError(_model_missing(f"cannot import it: {error}")) from None
    directory = learned.MODEL_DIR if directory is None else directory
    try:
        return learned.LearnedScreener(directory)
    except learned.ModelUnavailableError as error:
        raise ModelNotLoadedError(_model_missing(f"{directory}: {error}")) from None


def _model_missing(reason: str) -> str:
    return (f"the learned detector did not load ({reason}); scoring as deployed needs it. "
            "Pass --rules-only to score the rules alone.")


def _rules_signals(detector_name: str, texts: Sequence[str],
                   ) -> tuple[list[list[Signal]], list[float]]:
    """Each text's signals from the detector's rules, and the milliseconds each took."""
    context = ScreeningContext()
    signals: list[list[Signal]] = []
    milliseconds: list[float] = []
    for text in texts:
        started = time.perf_counter()
        signals.append(screen_message(text=text, context=context, detectors=[detector_name]))
        milliseconds.append((time.perf_counter() - started) * 1000)
    return signals, milliseconds


def _model_additions(model: ModelScreener, detector_name: str, texts: Sequence[str],
                     rules: Sequence[Sequence[Signal]],
                     ) -> tuple[list[list[Signal]], list[float]]:
    """Each text's signals of the detector that the model adds to the rules', and each
    text's share of its batch's milliseconds."""
    context = ScreeningContext()
    other_detectors = [name for name in DETECTORS if name != detector_name]
    added: list[list[Signal]] = []
    milliseconds: list[float] = []
    for start in range(0, len(texts), MODEL_BATCH_SIZE):
        batch = texts[start:start + MODEL_BATCH_SIZE]
        started = time.perf_counter()
        readings = model.signals(batch)
        share = (time.perf_counter() - started) * 1000 / len(batch)
        milliseconds.extend([share] * len(batch))
        for offset, (text, model_signals) in enumerate(zip(batch, readings, strict=True)):
            # The worker combines with every detector's rules signals, not only this one's:
            # an aimed insult keeps the model's distress reading out, a writer at risk keeps
            # its insult reading out.
            every_rule = [*rules[start + offset],
                          *screen_message(text=text, context=context,
                                          detectors=other_detectors)]
            added.append([signal for signal in added_by_model(every_rule, model_signals)
                          if signal.detector == detector_name])
    return added, milliseconds


def summary_lines(evaluation: Evaluation, *, positive_labels: frozenset[str]) -> list[str]:
    positives = evaluation.true_positives + evaluation.false_negatives
    if evaluation.scoring is Scoring.RULES_ONLY:
        scored = "rules only"
    elif evaluation.model_version is None:
        scored = "as deployed: rules only (the learned model does not cover this detector)"
    else:
        scored = f"as deployed: rules + learned model {evaluation.model_version}"
    lines = [
        f"detector {evaluation.detector}: {evaluation.n} rows"
        f"{'' if evaluation.rows is RowSelection.ALL else f' ({evaluation.rows} rows only)'}, "
        f"{positives} positive "
        f"(labels {', '.join(sorted(positive_labels))}), "
        f"{evaluation.true_positives + evaluation.false_positives} flagged",
        f"  scored {scored}; flagged on "
        + ("any signal" if evaluation.counted_kinds is None
           else "kinds " + ", ".join(sorted(evaluation.counted_kinds))),
        "",
        "                 flagged   not flagged",
        f"  positive     {evaluation.true_positives:8d}   {evaluation.false_negatives:11d}",
        f"  negative     {evaluation.false_positives:8d}   {evaluation.true_negatives:11d}",
        "",
        f"  precision {evaluation.precision:.3f}  recall {evaluation.recall:.3f}  "
        f"f1 {evaluation.f1:.3f}  false positive rate {evaluation.false_positive_rate:.3f}",
    ]
    if evaluation.kinds:
        lines.append("  signals by kind: " + _by_kind(evaluation.kinds))
    if evaluation.model_version is not None:
        positive, negative = evaluation.flagged_by_model_only
        lines.append(f"  added by the model: {_by_kind(evaluation.model_kinds) or 'nothing'}; "
                     f"rows flagged only thanks to it: {positive} positive, {negative} negative")
    if evaluation.timings is not None:
        timings = evaluation.timings
        parts = [("rules", timings.rules), ("model", timings.model), ("total", timings.total)]
        lines.append("  ms per message (median / p99): " + ", ".join(
            f"{name} {timing.median_ms:.3f} / {timing.p99_ms:.3f}"
            for name, timing in parts if timing is not None))
    return lines


def _by_kind(kinds: Counter[str]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m moderation.evaluate",
        description="Measure one screening detector against a labelled CSV, as deployed "
                    "(its rules plus what the learned model adds) unless --rules-only. "
                    "Never prints the dataset's texts.")
    parser.add_argument("--detector", required=True, help=f"one of: {', '.join(DETECTORS)}")
    parser.add_argument("--csv", required=True, type=Path,
                        help="UTF-8 CSV (or, with --delimiter tab, TSV) with a header row")
    parser.add_argument("--text-column", required=True)
    parser.add_argument("--label-column", required=True)
    parser.add_argument("--positive", required=True, action="append",
                        help="a label value that means the detector should flag the row "
                             "(repeat for several)")
    parser.add_argument("--kinds", nargs="+", type=_signal_kind, default=None,
                        metavar="KIND",
                        help="count a row as flagged only when a signal of one of these "
                             "kinds is raised (default: any signal of the detector); one of: "
                             f"{', '.join(SignalKind)}")
    parser.add_argument("--rules-only", action="store_true",
                        help="score the rules alone, without the learned model")
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="the learned model's directory (default: the deployed one, "
                             "moderation/screening/model)")
    parser.add_argument("--max-chars", type=_positive_int, default=None,
                        help="screen only the first N characters of each text")
    parser.add_argument("--rows", type=RowSelection, default=RowSelection.ALL,
                        choices=list(RowSelection),
                        help="use all data rows, or only those at even or odd positions "
                             "(the first data row is row 0): tune on one half, report the "
                             "other as held out")
    parser.add_argument("--delimiter", type=_delimiter, default=",",
                        help='the field separator: one character, or "tab" (default ",")')
    parser.add_argument("--quoting", type=Quoting, default=Quoting.MINIMAL,
                        choices=list(Quoting),
                        help="minimal: CSV's usual quotes (default); none: quote characters "
                             "are text (OLID's training TSV: --delimiter tab --quoting none)")
    return parser


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _signal_kind(value: str) -> SignalKind:
    try:
        return SignalKind(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown signal kind {value!r}; known: {', '.join(SignalKind)}") from None


def _delimiter(value: str) -> str:
    if value == "tab":
        return "\t"
    if len(value) != 1 or value in "\r\n":
        raise argparse.ArgumentTypeError(f'one character or "tab", not {value!r}')
    return value


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)  # bad arguments: argparse exits with code 2
    positive_labels = frozenset(arguments.positive)
    try:
        evaluation = evaluate_csv(
            detector_name=arguments.detector, csv_path=arguments.csv,
            text_column=arguments.text_column, label_column=arguments.label_column,
            positive_labels=positive_labels, max_chars=arguments.max_chars,
            rows=arguments.rows,
            scoring=Scoring.RULES_ONLY if arguments.rules_only else Scoring.AS_DEPLOYED,
            counted_kinds=None if arguments.kinds is None else frozenset(arguments.kinds),
            model_dir=arguments.model_dir,
            file_format=FileFormat(delimiter=arguments.delimiter, quoting=arguments.quoting))
    except EvaluationInputError as error:
        print(f"evaluate: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for line in summary_lines(evaluation, positive_labels=positive_labels):
        print(line)
    print(json.dumps(evaluation.figures()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
