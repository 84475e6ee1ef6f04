"""Sequence numbers from a row's `last_seq` counter: rooms number their messages with it, and
take-asides theirs. One statement bumps and reads the counter, and its row lock orders
concurrent writers until the transaction ends, so numbers are gap-free and increasing (a
rolled-back write gives its numbers back)."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import connection, models


def claim_next(model: type[models.Model], *, pk: int, count: int = 1,
               only_if: Mapping[str, bool | int | str] | None = None) -> int | None:
    """The first of the row's next `count` numbers, or None when no row has that pk (and the
    values in `only_if`). Call inside the transaction that stores what they number; one that
    claims on several rows must claim them in ascending pk order, so that two transactions
    never wait for each other's locks."""
    if count < 1:
        raise ValueError("claim at least one seq")
    quote = connection.ops.quote_name
    conditions = [f"{quote(model._meta.pk.column)} = %s"]
    params: list[bool | int | str] = [count, pk]
    for name, value in (only_if or {}).items():
        conditions.append(f"{quote(_column(model, name))} = %s")
        params.append(value)
    counter = quote(_column(model, "last_seq"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {counter} = {counter} + %s "  # noqa: S608 (names from the model)
            f"WHERE {' AND '.join(conditions)} RETURNING {counter}", params)
        row = cursor.fetchone()
    return None if row is None else int(row[0]) - count + 1


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field.column
