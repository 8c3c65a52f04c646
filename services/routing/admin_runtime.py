"""Builds the directory, users, rules, inbox, webhook and search parts of the routing service.

`app.py` opens them in its lifespan (`AdminServices.open`), uses the directory and rules for
letters, and the webhook notifier for unit notices; the admin, notification and search
routes read them from `app.state.admin`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI, Request

from services.routing.directory_store import ENTRY_INDEXES, DirectoryStore
from services.routing.inbox import INBOX_READ_INDEXES, InboxStore
from services.routing.notifications import InboxNotifier
from services.routing.rules_store import RulesStore
from services.routing.search import LetterSearch
from services.routing.settings import RoutingSettings
from services.routing.users import USER_INDEXES, UserStore
from services.routing.webhook_dispatcher import RetryPolicy, WebhookDispatcher
from services.routing.webhooks import (
    DELIVERY_INDEXES,
    DeliveryStore,
    WebhookNotifier,
    WebhookStore,
)
from shared.clock import Clock
from shared.logging import get_logger
from shared.mongo import ensure_indexes
from shared.runtime import Runtime

log = get_logger(__name__)

# Collections whose documents carry an outbox (audit entries, `token.revoked`).
ADMIN_OUTBOX_COLLECTIONS = ("units", "recipients", "users", "rules")


@dataclass
class AdminServices:
    """The administration, notification and search parts, built once per process."""

    directory: DirectoryStore
    rules: RulesStore
    users: UserStore
    inbox: InboxStore
    webhooks: WebhookStore
    deliveries: DeliveryStore
    notifier: WebhookNotifier
    dispatcher: WebhookDispatcher
    search: LetterSearch
    clock: Clock

    @classmethod
    async def open(
        cls, runtime: Runtime, *, settings: RoutingSettings, clock: Clock
    ) -> AdminServices:
        """Indexes, stores, the notifier and its dispatcher, and the first admin if asked."""
        db = runtime.db
        for name in ("units", "recipients"):
            await ensure_indexes(db[name], ENTRY_INDEXES)
        await ensure_indexes(db["users"], USER_INDEXES)
        await ensure_indexes(db["inbox"], INBOX_READ_INDEXES)
        await ensure_indexes(db["webhook_deliveries"], DELIVERY_INDEXES)
        directory = DirectoryStore(stores=runtime.store, meta=db["directory_meta"], clock=clock)
        users = UserStore(
            runtime.store("users"),
            directory=directory,
            codec=runtime.authenticator.codec,
            revoked=runtime.authenticator.revoked,
            clock=clock,
            max_ttl=timedelta(days=settings.token_max_ttl_days),
        )
        webhooks = WebhookStore(db["webhooks"])
        deliveries = DeliveryStore(db["webhook_deliveries"])
        dispatcher = WebhookDispatcher(
            deliveries=deliveries,
            webhooks=webhooks,
            policy=RetryPolicy(
                max_attempts=settings.webhook_max_attempts,
                base_s=settings.webhook_backoff_base_s,
                max_s=settings.webhook_backoff_max_s,
            ),
            timeout_s=settings.webhook_timeout_s,
            poll_interval_s=settings.webhook_poll_interval_s,
        )
        notifier = WebhookNotifier(
            InboxNotifier(db["inbox"]),
            webhooks=webhooks,
            deliveries=deliveries,
            dispatcher=dispatcher,
        )
        services = cls(
            directory=directory,
            rules=RulesStore(runtime.store("rules"), history=db["rules_history"], clock=clock),
            users=users,
            inbox=InboxStore(db["inbox"]),
            webhooks=webhooks,
            deliveries=deliveries,
            notifier=notifier,
            dispatcher=dispatcher,
            search=LetterSearch(db["letters"]),
            clock=clock,
        )
        if settings.bootstrap_admin_token_file is not None:
            await users.bootstrap_admin(
                settings.bootstrap_admin_token_file,
                ttl=timedelta(days=settings.token_max_ttl_days),
            )
        return services

    def install(self, app: FastAPI) -> None:
        """Hand the parts to the routes."""
        app.state.admin = self

    def start(self) -> None:
        """Start sending webhook deliveries (pending ones from before a restart too)."""
        self.dispatcher.start()

    async def stop(self) -> None:
        """Stop sending; what is pending stays pending."""
        await self.dispatcher.stop()


def admin_services(request: Request) -> AdminServices:
    """The parts built in the lifespan."""
    services: AdminServices = request.app.state.admin
    return services
