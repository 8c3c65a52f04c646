"""Routing's parts put together on a runtime, one builder per domain.

`app.py` calls them in its lifespan and hands each part to the routes on `app.state`
(`deps.py` reads them back); no domain's API imports another domain's parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.routing.classify.rules import load_rules
from services.routing.classify.store import RulesStore
from services.routing.directory.models import load_directory
from services.routing.directory.store import ENTRY_INDEXES, DirectoryStore
from services.routing.letters.repository import (
    LETTER_INDEXES,
    REPEAT_CANDIDATE_INDEXES,
    Desk,
    LetterRepository,
)
from services.routing.letters.service import LetterService
from services.routing.letters.worklist import DESK_FIELDS, on_some_desk
from services.routing.notify.dispatcher import RetryPolicy, WebhookDispatcher
from services.routing.notify.service import InboxNotifier, NoticeRelay, Notifier
from services.routing.notify.store import INBOX_INDEXES, InboxStore
from services.routing.notify.targets import TargetGuard
from services.routing.notify.webhooks import (
    DELIVERY_INDEXES,
    DeliveryStore,
    WebhookNotifier,
    WebhookStore,
)
from services.routing.settings import RoutingSettings
from services.routing.users.passwords import Lockout, Passwords
from services.routing.users.sign_in import SignIn
from services.routing.users.store import USER_INDEXES, UserStore
from shared.clock import Clock
from shared.logging import get_logger
from shared.mongo import ensure_indexes
from shared.runtime import Runtime

log = get_logger(__name__)

# Collections whose documents carry an outbox (the letters' events; audit entries and
# `token.revoked` of the directory, users and rules).
OUTBOX_COLLECTIONS = ("letters", "units", "recipients", "users", "minted_tokens", "rules")


async def open_directory(
    runtime: Runtime, *, settings: RoutingSettings, clock: Clock
) -> DirectoryStore:
    """The directory, seeded from the configured file when empty."""
    for name in ("units", "recipients"):
        await ensure_indexes(runtime.db[name], ENTRY_INDEXES)
    directory = DirectoryStore(stores=runtime.store, meta=runtime.db["directory_meta"], clock=clock)
    if await directory.seed(load_directory(settings.directory_path)):
        log.info("directory seeded", path=str(settings.directory_path or "sample"))
    return directory


async def open_rules(runtime: Runtime, *, settings: RoutingSettings, clock: Clock) -> RulesStore:
    """The classifier's rule set, seeded from the configured file when none is stored."""
    rules = RulesStore(runtime.store("rules"), history=runtime.db["rules_history"], clock=clock)
    await rules.seed(load_rules(settings.rules_path))
    return rules


async def open_users(
    runtime: Runtime, *, settings: RoutingSettings, clock: Clock, directory: DirectoryStore
) -> UserStore:
    """People and their tokens; the first admin's token written out where asked."""
    await ensure_indexes(runtime.db["users"], USER_INDEXES)
    users = UserStore(
        runtime.store("users"),
        directory=directory,
        codec=runtime.authenticator.codec,
        revoked=runtime.authenticator.revoked,
        clock=clock,
        max_ttl=timedelta(days=settings.token_max_ttl_days),
        minted=runtime.store("minted_tokens"),
    )
    if settings.bootstrap_admin_token_file is not None:
        await users.bootstrap_admin(
            settings.bootstrap_admin_token_file,
            ttl=timedelta(days=settings.token_max_ttl_days),
        )
    return users


def open_sign_in(
    runtime: Runtime, *, settings: RoutingSettings, clock: Clock, users: UserStore
) -> SignIn:
    """Passwords, sign-in and its lockout, over the same user documents."""
    lockout_s = settings.sign_in_lockout_s
    return SignIn(
        runtime.store("users"),
        users=users,
        passwords=Passwords(),
        lockout=Lockout(
            max_failures=settings.sign_in_max_failures,
            window=timedelta(seconds=settings.sign_in_failure_window_s),
            period=timedelta(seconds=lockout_s) if lockout_s else None,
        ),
        session_ttl=timedelta(hours=settings.session_ttl_h),
        clock=clock,
    )


@dataclass
class Notifications:
    """The units' inboxes and webhooks, and the loop that sends webhook deliveries."""

    inbox: InboxStore
    webhooks: WebhookStore
    deliveries: DeliveryStore
    notifier: WebhookNotifier
    dispatcher: WebhookDispatcher


async def open_notifications(runtime: Runtime, *, settings: RoutingSettings) -> Notifications:
    """Every notice kept in the unit's inbox, and POSTed to its webhook where it has one."""
    db = runtime.db
    await ensure_indexes(db["inbox"], INBOX_INDEXES)
    await ensure_indexes(db["webhook_deliveries"], DELIVERY_INDEXES)
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
        guard=TargetGuard(allowed_hosts=settings.webhook_allowed_hosts),
    )
    notifier = WebhookNotifier(
        InboxNotifier(db["inbox"]),
        webhooks=webhooks,
        deliveries=deliveries,
        dispatcher=dispatcher,
    )
    return Notifications(
        inbox=InboxStore(db["inbox"]),
        webhooks=webhooks,
        deliveries=deliveries,
        notifier=notifier,
        dispatcher=dispatcher,
    )


async def open_letters(
    runtime: Runtime,
    *,
    settings: RoutingSettings,
    clock: Clock,
    directory: DirectoryStore,
    users: UserStore,
    rules: RulesStore,
    notifier: Notifier,
) -> tuple[LetterService, NoticeRelay]:
    """The letter service, and the relay that hands its notices to the units."""
    db = runtime.db
    await ensure_indexes(db["letters"], LETTER_INDEXES)
    await ensure_indexes(db["repeat_candidates"], REPEAT_CANDIDATE_INDEXES)
    notices = NoticeRelay(
        db["letters"],
        notifier=notifier,
        locks=runtime.locks,
        interval_s=settings.notice_sweep_interval_s,
    )
    desk = Desk(db["desk"], letters=db["letters"], keep=on_some_desk, fields=DESK_FIELDS)
    letters = LetterRepository(runtime.store("letters"), audit=runtime.audit, desk=desk)
    if copied := await letters.backfill_candidates():
        log.info("repeat candidates copied from the letters", letters=copied)
    service = LetterService(
        letters=letters,
        directory=directory,
        people=users,
        rules=rules,
        notices=notices,
        clock=clock,
        settings=settings,
    )
    return service, notices
