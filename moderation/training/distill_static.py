"""Distil the encoder into a static table: one vector per token, for the model's fast gate.

    python -m moderation.training.distill_static

Every token of the vocabulary goes through the int8 encoder alone ("[CLS] token [SEP]"), and
the table keeps its embedding reduced to STATIC_SIZE dimensions by PCA (numpy's SVD), as
float16. A message's static embedding is then the mean of its tokens' rows: a gather and a
mean, tens of microseconds where the encoder takes milliseconds (the model2vec idea, done
with the exported encoder so nothing but onnxruntime, tokenizers and numpy is needed).

The gate trained on it (moderation.training.train_heads) passes every message that could
carry a signal on to the encoder and lets plain chatter through at a glance.
"""

from __future__ import annotations

import numpy as np

from moderation.screening.learned import (
    ENCODER_FILE,
    STATIC_FILE,
    STATIC_SIZE,
    TOKENIZER_FILE,
    Encoder,
)

CLS, SEP = 101, 102
BATCH = 512


def distil() -> None:
    encoder = Encoder(ENCODER_FILE, TOKENIZER_FILE)
    vocabulary = encoder.vocabulary_size()
    rows = np.zeros((vocabulary, 384), dtype=np.float32)
    for start in range(0, vocabulary, BATCH):
        tokens = np.arange(start, min(start + BATCH, vocabulary), dtype=np.int64)
        ids = np.stack([np.full_like(tokens, CLS), tokens, np.full_like(tokens, SEP)], axis=1)
        rows[start:start + len(tokens)] = encoder.embed_ids(ids, np.ones_like(ids))
    mean = rows.mean(axis=0)
    _u, _s, components = np.linalg.svd(rows - mean, full_matrices=False)
    reduced = (rows - mean) @ components[:STATIC_SIZE].T
    np.save(STATIC_FILE, reduced.astype(np.float16))
    print(f"wrote {STATIC_FILE}: {vocabulary} tokens x {STATIC_SIZE}")


if __name__ == "__main__":
    distil()
