"""Whether the operator's on-call fallback is set, said where an operator will see it: the
worker's start-up log, /readyz and (for admins) the staff dashboard.

Without a fallback, an alert nobody on duty answers waits on the dashboard and reaches no one.
"""

from __future__ import annotations

import logging
from typing import Final

from moderation import fallback

logger = logging.getLogger(__name__)

NOT_CONFIGURED: Final = ("No crisis fallback is configured: an escalation nobody on duty "
                         "acknowledges reaches no one outside the dashboard. Set "
                         "HEARTH_FALLBACK_WEBHOOK_URL and/or HEARTH_FALLBACK_EMAIL, then run "
                         "manage.py send_test_fallback.")


def readiness_field() -> str:
    return "configured" if fallback.is_configured() else "not_configured"


def warn_if_not_configured() -> bool:
    """Logs a WARNING at start-up when nothing is set; True when something is."""
    if fallback.is_configured():
        return True
    logger.warning(NOT_CONFIGURED)
    return False
