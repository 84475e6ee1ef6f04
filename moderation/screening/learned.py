"""The learned detector: a sentence-embedding model with small trained heads, beside the rules.

all-MiniLM-L6-v2 (exported once to int8 ONNX by moderation.training.export_encoder) turns a
message into a 384-number embedding; logistic heads trained on Hearth's own chat-style corpus
(moderation/training/) read crisis tiers, method details and aimed harassment from it. It runs
on the CPU with onnxruntime, tokenizers and numpy: no PyTorch, no download, ever.

Word lists need a new line for every paraphrase; the embedding places "i wont be around much
longer" near "i want to die" without one. The rules stay: they explain each signal, run
synchronously before a message is stored, and are the fallback when the model is missing.

Pure computation, no Django: the evaluation command, the screening worker and the tests all
load it the same way. See docs/screening.md for its model card.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from moderation.screening.normalize import normalize_text
from moderation.screening.types import DetectorName, Rule, Severity, Signal, SignalKind

logger = logging.getLogger(__name__)

MODEL_DIR: Final = Path(__file__).resolve().parent / "model"
ENCODER_FILE: Final = MODEL_DIR / "encoder.onnx"
TOKENIZER_FILE: Final = MODEL_DIR / "tokenizer.json"
HEADS_FILE: Final = MODEL_DIR / "heads.json"
STATIC_FILE: Final = MODEL_DIR / "static.npy"
# Dimensions of the distilled static table (moderation.training.distill_static).
STATIC_SIZE: Final = 128
# Chat messages are short; a longer one is read from its start, which is where a message
# that is mostly about something else rarely hides its signal, so its end is read too.
MAX_TOKENS: Final = 128
# Longer text is cut before tokenising: the tokenizer's cost grows with the input even when
# the model reads only MAX_TOKENS of it.
MAX_CHARS: Final = 2000
EMBEDDING_SIZE: Final = 384
# A message needs at least this many words with letters for the model to read it: a lone
# emoji, "k" or "?" carries too little for an embedding to mean anything (the first model
# read some as aimed abuse), and two words cannot tell "night all" from a last goodbye (the
# model read both as imminent). The rules still read every message, the shortest included,
# and page for the explicit short ones ("goodbye forever", "took them all").
MIN_WORDS: Final = 3

Embeddings = npt.NDArray[np.float32]


class ModelUnavailableError(RuntimeError):
    """The model's files are missing or unreadable; Hearth screens with the rules alone."""


class Encoder:
    """Texts to L2-normalised sentence embeddings (one row per text)."""

    def __init__(self, onnx_path: Path, tokenizer_path: Path, *, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        # One thread: the worker's event loop keeps the other core for itself and the
        # database thread; batching, not threads, is where the speed comes from.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        # Each text's own ids, never padded to its batch's longest: embed_token_ids pads and
        # masks, so a text reads the same alone or in any batch.
        self._tokenizer.no_padding()

    def embed(self, texts: Sequence[str]) -> Embeddings:
        return self.embed_token_ids(self.token_ids(texts))

    def embed_ids(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Embeddings:
        [embedding] = self._session.run(["embedding"], {"input_ids": ids,
                                                        "attention_mask": mask})
        return np.asarray(embedding, dtype=np.float32)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's token ids without padding, [CLS] and [SEP] included."""
        return [e.ids for e in self._tokenizer.encode_batch(list(texts))]

    def embed_token_ids(self, token_ids: Sequence[Sequence[int]]) -> Embeddings:
        """embed() for texts already tokenised by token_ids()."""
        if not token_ids:
            return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        width = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, text_ids in enumerate(token_ids):
            ids[row, :len(text_ids)] = text_ids
            mask[row, :len(text_ids)] = 1
        return self.embed_ids(ids, mask)

    def vocabulary_size(self) -> int:
        return int(self._tokenizer.get_vocab_size())


class StaticTable:
    """The encoder distilled to one vector per token: a message's static embedding is the
    mean of its tokens' rows, tens of microseconds instead of milliseconds."""

    def __init__(self, path: Path) -> None:
        self.rows = np.load(path).astype(np.float32)
        if self.rows.ndim != 2 or self.rows.shape[1] != STATIC_SIZE:
            raise ModelUnavailableError("static.npy has the wrong shape")

    def embed(self, token_ids: Sequence[Sequence[int]]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(token_ids), STATIC_SIZE), dtype=np.float32)
        for row, ids in enumerate(token_ids):
            inner = ids[1:-1]  # without [CLS] and [SEP]
            if inner:
                out[row] = self.rows[np.asarray(inner, dtype=np.int64)].mean(axis=0)
        return out


def _head_and_tail(text: str) -> str:
    return (text if len(text) <= MAX_CHARS
            else text[:MAX_CHARS // 2] + " " + text[-MAX_CHARS // 2:])


def _model_text(text: str) -> str:
    """What the model reads: the rules' word view (look-alike letters, leetspeak and drawn-out
    letters undone, so "k1lll myseIf" reads as the rules read it), its head and tail when
    long. Never empty: the tokenizer needs a token."""
    return model_words(normalize_text(_head_and_tail(text)).words.text)


def _enough_words(prepared: str) -> bool:
    return sum(1 for word in prepared.split()
               if any(character.isalpha() for character in word)) >= MIN_WORDS


def model_words(words: str) -> str:
    """_model_text for a text the rules have already normalised (their `words` view): the
    worker passes it on, so the model thread never normalises again."""
    return _head_and_tail(words).strip() or "."


@dataclass(frozen=True)
class LogisticHead:
    """A multinomial (or binary, two classes) logistic regression over the embedding."""

    classes: tuple[str, ...]
    coef: npt.NDArray[np.float32]  # (classes, features); one row for a binary head
    intercept: npt.NDArray[np.float32]

    @classmethod
    def from_json(cls, data: dict[str, Any], features: int) -> LogisticHead:
        coef = np.asarray(data["coef"], dtype=np.float32)
        intercept = np.asarray(data["intercept"], dtype=np.float32)
        classes = tuple(str(c) for c in data["classes"])
        if coef.ndim != 2 or coef.shape[1] != features or intercept.shape != (
                coef.shape[0],) or coef.shape[0] not in (1, len(classes)):
            raise ModelUnavailableError("a head in heads.json has the wrong shape")
        return cls(classes=classes, coef=coef, intercept=intercept)

    def probabilities(self, embeddings: Embeddings) -> npt.NDArray[np.float32]:
        """(texts, classes) probabilities, rows summing to 1."""
        scores: npt.NDArray[np.float32] = embeddings @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            both: npt.NDArray[np.float32] = np.stack([1.0 - positive, positive], axis=1)
            return both.astype(np.float32)
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        probabilities: npt.NDArray[np.float32] = exp / exp.sum(axis=1, keepdims=True)
        return probabilities.astype(np.float32)


@dataclass(frozen=True)
class Thresholds:
    """Chosen at training time on cross-validated predictions (moderation/training)."""

    # P(high_risk) + P(imminent) at or above: the writer is at risk (at least high_risk).
    at_risk: float
    # P(imminent) at or above, once at risk: imminent.
    imminent: float
    # P(concern) + P(high_risk) + P(imminent) at or above: the gentler support card.
    concern: float
    # P(worried_about_someone) at or above: a worry about someone else.
    worried: float
    # P(method) at or above: details of a method, collapsed for the room.
    method: float
    # P(insult) + P(threat) + P(incitement) at or above: aimed harassment, for a moderator to
    # look at (the message stays in the room).
    harassment: float
    # The static gate's P(anything to flag) at or above: the encoder reads the message.
    gate: float
    # The same sum at or above: sure enough to take the message from the room while a
    # moderator looks (HIGH severity; below it, MEDIUM: flagged for review only). A model
    # that misreads an innocent message should cost a moderator a glance, not a member
    # their voice. Heads without it hold at `harassment`.
    harassment_hold: float = 0.0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Thresholds:
        data = {"harassment_hold": data.get("harassment"), **data}
        values = {name: float(data[name]) for name in cls.__dataclass_fields__}
        if not all(0.0 < value <= 1.0 for value in values.values()):
            raise ModelUnavailableError("a threshold in heads.json is outside (0, 1]")
        return cls(**values)


@dataclass(frozen=True)
class Reading:
    """What the model read in one message, as probabilities (for the docs and the tests).

    `gated` is True when the static gate let the message through without the encoder: then
    every probability is the "nothing here" reading.
    """

    crisis: dict[str, float]
    method: float
    harassment: dict[str, float]
    gated: bool = False


def model_token_ids(encoder: Encoder, texts: Sequence[str], *,
                    normalized: bool = False) -> list[list[int]]:
    """Token ids of what the model reads of each text (training and serving alike);
    `normalized`: the texts are already the rules' `words` view."""
    prepare = model_words if normalized else _model_text
    return encoder.token_ids([prepare(text) for text in texts])


class LearnedScreener:
    """The encoder, the static gate and the heads. Safe to share between threads (an
    onnxruntime session may be run from several) but meant for one executor thread."""

    CRISIS_CLASSES: Final = ("none", "concern", "high_risk", "imminent",
                             "worried_about_someone")
    HARASSMENT_CLASSES: Final = ("none", "insult", "threat", "incitement")

    def __init__(self, directory: Path = MODEL_DIR, *, require_heads: bool = True) -> None:
        """Raises ModelUnavailableError when a file is missing, unreadable or malformed.
        `require_heads=False` loads the encoder and the static table alone (training)."""
        self.directory = directory
        try:
            self.encoder = Encoder(directory / ENCODER_FILE.name,
                                   directory / TOKENIZER_FILE.name)
            self.static = StaticTable(directory / STATIC_FILE.name)
            if not require_heads:
                return
            heads = json.loads((directory / HEADS_FILE.name).read_text(encoding="utf-8"))
            self.crisis = LogisticHead.from_json(heads["crisis"], EMBEDDING_SIZE)
            self.method = LogisticHead.from_json(heads["method"], EMBEDDING_SIZE)
            self.harassment = LogisticHead.from_json(heads["harassment"], EMBEDDING_SIZE)
            self.gate = LogisticHead.from_json(heads["gate"], STATIC_SIZE)
            self.thresholds = Thresholds.from_json(heads["thresholds"])
            self.version = str(heads.get("version", ""))
        except ModelUnavailableError:
            raise
        except Exception as failure:  # any unreadable file means "screen with the rules alone"
            raise ModelUnavailableError(f"{type(failure).__name__}: {failure}") from failure
        if (self.crisis.classes != self.CRISIS_CLASSES
                or self.harassment.classes != self.HARASSMENT_CLASSES):
            raise ModelUnavailableError("heads.json's classes are not the ones Hearth knows")

    def version_of_files(self) -> str:
        """Names the encoder and static table the heads were trained on."""
        digest = hashlib.sha256()
        for name in (ENCODER_FILE.name, STATIC_FILE.name):
            digest.update((self.directory / name).read_bytes())
        return digest.hexdigest()[:16]

    def read(self, texts: Sequence[str], *, normalized: bool = False) -> list[Reading]:
        """`normalized`: the texts are the rules' `words` view (the worker's case)."""
        return self.read_timed(texts, normalized=normalized)[0]

    def read_timed(self, texts: Sequence[str], *, normalized: bool = False
                   ) -> tuple[list[Reading], float]:
        """read(), and the seconds spent in the encoder (the costly part; the gate before it
        costs a fraction of a millisecond a message)."""
        prepare = model_words if normalized else _model_text
        prepared = [prepare(text) for text in texts]
        token_ids = self.encoder.token_ids(prepared)
        gate = self.gate.probabilities(self.static.embed(token_ids))[:, 1]
        passed = [i for i in range(len(texts))
                  if gate[i] >= self.thresholds.gate and _enough_words(prepared[i])]
        readings = [_NOTHING] * len(texts)
        if not passed:
            return readings, 0.0
        started = time.perf_counter()
        # One text per encoder call: the int8 layers scale activations by the batch's range
        # (dynamic quantisation), so a batchmate could move a reading by several hundredths;
        # alone, a message reads the same whatever arrives with it. The gate keeps the calls
        # few.
        embeddings = np.concatenate([self.encoder.embed_token_ids([token_ids[i]])
                                     for i in passed])
        crisis = self.crisis.probabilities(embeddings)
        method = self.method.probabilities(embeddings)[:, 1]
        harassment = self.harassment.probabilities(embeddings)
        for row, i in enumerate(passed):
            readings[i] = Reading(
                crisis=dict(zip(self.CRISIS_CLASSES, map(float, crisis[row]), strict=True)),
                method=float(method[row]),
                harassment=dict(zip(self.HARASSMENT_CLASSES, map(float, harassment[row]),
                                    strict=True)))
        return readings, time.perf_counter() - started

    def signals(self, texts: Sequence[str], *, normalized: bool = False) -> list[list[Signal]]:
        """The signals the model raises for each text (span None: whole-message)."""
        return self.signals_timed(texts, normalized=normalized)[0]

    def signals_timed(self, texts: Sequence[str], *, normalized: bool = False
                      ) -> tuple[list[list[Signal]], float]:
        """signals(), and the seconds spent in the encoder."""
        readings, seconds = self.read_timed(texts, normalized=normalized)
        return [signals_for(reading, self.thresholds) for reading in readings], seconds


_NOTHING: Final = Reading(
    crisis={"none": 1.0, "concern": 0.0, "high_risk": 0.0, "imminent": 0.0,
            "worried_about_someone": 0.0},
    method=0.0, harassment={"none": 1.0, "insult": 0.0, "threat": 0.0, "incitement": 0.0},
    gated=True)


def signals_for(reading: Reading, thresholds: Thresholds) -> list[Signal]:
    crisis = reading.crisis
    at_risk = crisis["high_risk"] + crisis["imminent"]
    found: list[Signal] = []
    if at_risk >= thresholds.at_risk:
        if crisis["imminent"] >= thresholds.imminent:
            found.append(_crisis(SignalKind.IMMINENT, Severity.CRITICAL))
        else:
            found.append(_crisis(SignalKind.HIGH_RISK, Severity.HIGH))
    elif at_risk + crisis["concern"] >= thresholds.concern:
        found.append(_crisis(SignalKind.CONCERN, Severity.MEDIUM))
    if crisis["worried_about_someone"] >= thresholds.worried:
        found.append(_crisis(SignalKind.WORRIED_ABOUT_SOMEONE, Severity.HIGH))
    if reading.method >= thresholds.method:
        found.append(Signal(detector=DetectorName.CRISIS, kind=SignalKind.METHOD_DETAIL,
                            rule=Rule.NO_METHOD_DETAILS, severity=Severity.HIGH))
    harassment = reading.harassment
    aimed = 1.0 - harassment["none"]
    if aimed >= thresholds.harassment:
        kind = max(("insult", "threat", "incitement"), key=lambda k: harassment[k])
        sure = aimed >= max(thresholds.harassment_hold, thresholds.harassment)
        found.append(Signal(detector=DetectorName.HARASSMENT, kind=_HARASSMENT_KINDS[kind],
                            rule=Rule.RESPECT,
                            severity=Severity.HIGH if sure else Severity.MEDIUM))
    return found


_HARASSMENT_KINDS: Final = {"insult": SignalKind.INSULT, "threat": SignalKind.THREAT,
                            "incitement": SignalKind.SELF_HARM_INCITEMENT}


def _crisis(kind: SignalKind, severity: Severity) -> Signal:
    return Signal(detector=DetectorName.CRISIS, kind=kind, rule=Rule.CRISIS_SUPPORT,
                  severity=severity)
