"""Deleting many rows a batch at a time, so no transaction holds its locks for long."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction


def delete_in_batches(candidates: models.QuerySet[Any], *, batch_size: int,
                      dry_run: bool) -> int:
    """Delete the rows `candidates` selects, `batch_size` rows per transaction; the number
    of rows (of the candidates' model) deleted, or that would be with `dry_run`.

    The condition is read again for every batch, inside its transaction, so a row that
    stopped matching meanwhile (a member who posted, an item reopened) is left alone.
    """
    if dry_run:
        return candidates.count()
    model = candidates.model
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(candidates.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                return deleted
            _total, per_model = candidates.filter(pk__in=ids).delete()
            deleted += per_model.get(model._meta.label, 0)
