"""The billing sweep (run by the worker's scheduler): pending events go back to the queue, and
every subscription PayPal may still move is re-read, so a missed event (an activation, a payment,
a cancellation) takes effect anyway; the ledger's once-keys make that safe to repeat."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from chatsvg.application.billing.events import HANDLE_BILLING_EVENT, BillingEventHandler
from chatsvg.application.ports import (
    BillingProvider,
    BillingProviderError,
    Clock,
    TaskQueue,
    UnitOfWorkFactory,
)
from chatsvg.domain.billing.events import MAX_ATTEMPTS

log = logging.getLogger(__name__)

PENDING_AFTER = timedelta(seconds=60)  # a younger pending event is still in the queue's hands
ABANDONED_AFTER = timedelta(days=3)  # a checkout not approved by then is no longer re-read


@dataclass(frozen=True)
class SweepReport:
    requeued: int
    reread: int
    failed: int


class BillingSweep:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        provider: BillingProvider | None,
        handler: BillingEventHandler,
        queue: TaskQueue,
        clock: Clock,
        batch: int = 200,
    ) -> None:
        self._uow = uow
        self._provider = provider
        self._handler = handler
        self._queue = queue
        self._clock = clock
        self._batch = batch

    async def sweep(self) -> SweepReport:
        if self._provider is None:
            return SweepReport(0, 0, 0)
        requeued = reread = failed = 0
        async with self._uow() as uow:
            pending = await uow.billing_events.pending(
                self._clock.now() - PENDING_AFTER, self._batch
            )
            subscriptions = await uow.subscriptions.unsettled(
                self._batch, pending_since=self._clock.now() - ABANDONED_AFTER
            )
        for event in pending:
            if event.attempts >= MAX_ATTEMPTS:
                continue  # given up: `chatsvg admin billing replay` runs it again
            await self._queue.enqueue(HANDLE_BILLING_EVENT, event.id)
            requeued += 1
        for subscription in subscriptions:
            try:
                remote = await self._provider.get_subscription(subscription.id)
                await self._handler.apply(remote)
                reread += 1
            except BillingProviderError:
                failed += 1
                log.warning(
                    "billing sweep could not read a subscription",
                    exc_info=True,
                    extra={"subscription_id": subscription.id},
                )
        if requeued or failed:
            log.info(
                "billing sweep", extra={"requeued": requeued, "reread": reread, "failed": failed}
            )
        return SweepReport(requeued, reread, failed)
