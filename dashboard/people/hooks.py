"""After every successful sync run, link the vendor people into identities again."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from dashboard.integrations.signals import sync_succeeded

logger = logging.getLogger(__name__)


@receiver(sync_succeeded, dispatch_uid="people-link-after-sync")
def link_after_sync(sender: Any, run: Any, **kwargs: Any) -> None:
    from dashboard.people.services import link_people

    result = link_people()
    logger.info("sync run %s: %s", getattr(run, "pk", None), result)
