"""Forget cached copies (hearth/hotcache.py) when what they copy is saved in this worker."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from moderation.models import GroundRule, Sanction, ScreeningPolicy
from moderation.rules import forget_rules
from moderation.sanctions import forget_sanctions
from moderation.services import policy_cache


@receiver(post_save, sender=ScreeningPolicy)
@receiver(post_delete, sender=ScreeningPolicy)
def _policy_saved(**_kwargs: Any) -> None:
    policy_cache.forget()


@receiver(post_save, sender=Sanction)
@receiver(post_delete, sender=Sanction)
def _sanction_saved(*, instance: Sanction, **_kwargs: Any) -> None:
    forget_sanctions(member_id=instance.member_id)


@receiver(post_save, sender=GroundRule)
@receiver(post_delete, sender=GroundRule)
def _rule_saved(**_kwargs: Any) -> None:
    forget_rules()
