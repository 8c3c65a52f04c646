"""The routing API's shared dependencies: the parts built in the lifespan, who may see a
letter, the common query parameters and the documented error answers.

The composition root (`app.py`) puts each domain's parts on `app.state`; routes reach them
only through the typed dependencies below, so no domain's API imports another's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request

from services.routing.classify.store import RulesStore
from services.routing.directory.store import DirectoryStore
from services.routing.letters.schemas import LetterRead, letter_read
from services.routing.letters.service import LetterService, actions_for, sees_person
from services.routing.notify.dispatcher import WebhookDispatcher
from services.routing.notify.store import InboxStore
from services.routing.notify.webhooks import DeliveryStore, WebhookStore
from services.routing.search.repository import LetterSearch
from services.routing.users.sign_in import SignIn
from services.routing.users.store import UserStore
from shared.auth import OFFICE_ROLES, CurrentPrincipal, Principal, Role, require_roles
from shared.clock import Clock
from shared.mongo import Document
from shared.web import error_doc

LETTER_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
ITEM_ID_PATTERN = r"^[a-z]{2,4}_[0-9A-Z]{26}$"

Responses = dict[int | str, dict[str, Any]]

READ_ERRORS: Responses = {
    401: error_doc("no valid bearer token"),
    404: error_doc("no such letter, or not one of your unit's letters"),
}
ACTION_ERRORS: Responses = {
    **READ_ERRORS,
    403: error_doc("your role (or unit) may not take this action"),
    409: error_doc(
        "not allowed in the letter's state (with the allowed actions), or stale version"
    ),
    422: error_doc("a field is missing or wrong (the field and the reason are named)"),
}
READ: Responses = {
    401: error_doc("no valid bearer token"),
    403: error_doc("your role may not read this"),
}
GET_ONE: Responses = {**READ, 404: error_doc("not found")}
WRITE: Responses = {
    **GET_ONE,
    409: error_doc("stale version, a taken id, or the directory would lose what it needs"),
    422: error_doc("a field is missing or wrong (the field and the reason are named)"),
}

Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
Reader = Annotated[Principal, Depends(require_roles(*OFFICE_ROLES, Role.admin))]
Cursor = Annotated[str | None, Query(max_length=512, description="from the previous page")]
Limit = Annotated[int, Query(ge=1, le=200)]
LetterId = Annotated[str, Path(pattern=LETTER_ID_PATTERN, description="the letter's id")]
ItemId = Annotated[str, Path(pattern=ITEM_ID_PATTERN)]
EntryIdPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]


def get_service(request: Request) -> LetterService:
    """The letter service built in the lifespan."""
    service: LetterService = request.app.state.letters
    return service


def get_directory(request: Request) -> DirectoryStore:
    """The directory of units and recipients."""
    directory: DirectoryStore = request.app.state.directory
    return directory


def get_rules(request: Request) -> RulesStore:
    """The classifier's rule set as the office edits it."""
    rules: RulesStore = request.app.state.rules
    return rules


def get_users(request: Request) -> UserStore:
    """People and their tokens."""
    users: UserStore = request.app.state.users
    return users


def get_sign_in(request: Request) -> SignIn:
    """Passwords and signing in."""
    sign_in: SignIn = request.app.state.sign_in
    return sign_in


def get_inbox(request: Request) -> InboxStore:
    """The units' inboxes."""
    inbox: InboxStore = request.app.state.inbox
    return inbox


def get_webhooks(request: Request) -> WebhookStore:
    """The units' webhooks."""
    webhooks: WebhookStore = request.app.state.webhooks
    return webhooks


def get_deliveries(request: Request) -> DeliveryStore:
    """Webhook deliveries and their attempts."""
    deliveries: DeliveryStore = request.app.state.deliveries
    return deliveries


def get_dispatcher(request: Request) -> WebhookDispatcher:
    """The loop that sends webhook deliveries."""
    dispatcher: WebhookDispatcher = request.app.state.dispatcher
    return dispatcher


def get_clock(request: Request) -> Clock:
    """The service's clock."""
    clock: Clock = request.app.state.clock
    return clock


def get_search(request: Request) -> LetterSearch:
    """Word search over the letters."""
    search: LetterSearch = request.app.state.search
    return search


ServiceDep = Annotated[LetterService, Depends(get_service)]
DirectoryDep = Annotated[DirectoryStore, Depends(get_directory)]
RulesDep = Annotated[RulesStore, Depends(get_rules)]
UsersDep = Annotated[UserStore, Depends(get_users)]
SignInDep = Annotated[SignIn, Depends(get_sign_in)]
InboxDep = Annotated[InboxStore, Depends(get_inbox)]
WebhooksDep = Annotated[WebhookStore, Depends(get_webhooks)]
DeliveriesDep = Annotated[DeliveryStore, Depends(get_deliveries)]
SearchDep = Annotated[LetterSearch, Depends(get_search)]
DispatcherDep = Annotated[WebhookDispatcher, Depends(get_dispatcher)]
ClockDep = Annotated[Clock, Depends(get_clock)]


async def visible_letter(
    letter_id: LetterId, principal: CurrentPrincipal, service: ServiceDep
) -> Document:
    """The letter, if the caller may see it; 404 otherwise (also for other units' letters)."""
    return await service.get_for(principal, letter_id)


VisibleLetter = Annotated[Document, Depends(visible_letter)]


def read_for(principal: Principal, doc: Document) -> LetterRead:
    """The letter as this caller may see it, with what they may do now."""
    actions = actions_for(principal, doc)
    return letter_read(
        doc, allowed_actions=[a.value for a in actions], show_person=sees_person(principal, doc)
    )
