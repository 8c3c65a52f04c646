"""Administration of people: users with roles and units, the bearer tokens issued to them and
their passwords; and signing in, the one way to a token without holding one (`/auth`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.routing.deps import (
    GET_ONE,
    READ,
    WRITE,
    Admin,
    Cursor,
    EntryIdPath,
    Limit,
    Reader,
    Responses,
    SignInDep,
    UsersDep,
)
from services.routing.directory.schemas import VersionBody
from services.routing.letters.service import actor_of
from services.routing.users.schemas import (
    HandlerEntry,
    PasswordChange,
    PasswordSet,
    SignInCredentials,
    TokenCreate,
    TokenIssued,
    TokenRevocation,
    UnitHandlers,
    UserCreate,
    UserRead,
    UserRole,
    UserUpdate,
    user_read,
)
from shared.auth import CurrentPrincipal, Role
from shared.errors import Forbidden
from shared.paging import Page, id_cursor, next_id_cursor
from shared.web import error_doc

UserIdPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")]
TokenIdPath = Annotated[str, Path(pattern=r"^tok_[0-9A-Z]{26}$")]

router = APIRouter(prefix="/admin", tags=["users"])
auth_router = APIRouter(prefix="/auth", tags=["sign-in"])

_WRONG = error_doc("wrong user name or password: one answer whatever was wrong")
_LOCKED = error_doc(
    "account_locked: too many failed sign-ins; refused without checking the password until"
    " `details.locked_until` (null: until an admin unlocks it)"
)
_POLICY = error_doc("a field is missing or wrong, or the new password breaks the policy (named)")
SIGN_IN: Responses = {
    401: _WRONG,
    403: error_doc(
        "password_change_required: the password was set by an admin; change it first"
        " (POST /auth/password), no token is given"
    ),
    422: _POLICY,
    423: _LOCKED,
}
CHANGE: Responses = {
    401: _WRONG,
    409: error_doc("the password changed meanwhile"),
    422: _POLICY,
    423: _LOCKED,
}


@router.get("/users", summary="Users, by id.", responses=READ)
async def list_users(
    _: Reader,
    users: UsersDep,
    role: UserRole | None = None,
    unit_id: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")] = None,
    active: bool | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[UserRead]:
    """Users by role, unit and whether active."""
    docs = await users.page(
        role=Role(role.value) if role is not None else None,
        unit_id=unit_id,
        active=active,
        after=id_cursor(cursor),
        limit=limit,
    )
    return Page[UserRead](
        items=[user_read(d) for d in docs[:limit]], next_cursor=next_id_cursor(docs, limit=limit)
    )


# Who may see a unit's handlers: its own head and leader (who name one), the office, admins.
_NAMING_ROLES = frozenset({Role.unit_head, Role.unit_leader})
_HANDLERS_PAGE = 200


@router.get(
    "/units/{unit_id}/handlers", summary="A unit's active handlers, to name one.", responses=READ
)
async def unit_handlers(
    principal: CurrentPrincipal, users: UsersDep, unit_id: EntryIdPath
) -> UnitHandlers:
    """The unit's active `unit_handler` users, id and name only: whom its head or leader
    may name as a letter's handler (经办人员). For that unit's head and leader, the office
    and admins; 403 for anyone else (another unit's head too)."""
    own = principal.role in _NAMING_ROLES and principal.unit_id == unit_id
    if not (own or principal.is_office or principal.role is Role.admin):
        raise Forbidden("only the unit's head or leader, or the office, lists its handlers")
    items: list[HandlerEntry] = []
    after: str | None = None
    while True:
        docs = await users.page(
            role=Role.unit_handler, unit_id=unit_id, active=True, after=after, limit=_HANDLERS_PAGE
        )
        items += [HandlerEntry(id=d["_id"], name=d["name"]) for d in docs[:_HANDLERS_PAGE]]
        if len(docs) <= _HANDLERS_PAGE:
            return UnitHandlers(unit_id=unit_id, items=items)
        after = str(docs[_HANDLERS_PAGE - 1]["_id"])


@router.get("/users/{user_id}", summary="One user with the tokens issued.", responses=GET_ONE)
async def get_user(_: Reader, users: UsersDep, user_id: UserIdPath) -> UserRead:
    """A user with its version (to change it) and its tokens (ids only)."""
    return user_read(await users.get(user_id))


@router.post("/users", summary="Add a user.", status_code=201, responses=WRITE)
async def create_user(principal: Admin, users: UsersDep, body: UserCreate) -> UserRead:
    """A unit role needs an active unit of the directory (422 naming `unit_id` otherwise)."""
    doc = await users.create(
        user_id=body.id,
        name=body.name,
        role=Role(body.role.value),
        unit_id=body.unit_id,
        actor=actor_of(principal),
    )
    return user_read(doc)


@router.put("/users/{user_id}", summary="Change a user's name, role or unit.", responses=WRITE)
async def update_user(
    principal: Admin, users: UsersDep, user_id: UserIdPath, body: UserUpdate
) -> UserRead:
    """On the version read (409 when stale); a new role or unit revokes the user's tokens."""
    doc = await users.update(
        user_id,
        name=body.name,
        role=Role(body.role.value),
        unit_id=body.unit_id,
        version=body.version,
        actor=actor_of(principal),
    )
    return user_read(doc)


@router.post(
    "/users/{user_id}/deactivate",
    summary="Deactivate a user and revoke their tokens.",
    responses=WRITE,
)
async def deactivate_user(
    principal: Admin, users: UsersDep, user_id: UserIdPath, body: VersionBody
) -> UserRead:
    """Kept for the audit trail; every live token of theirs is revoked (`token.revoked`)."""
    doc = await users.deactivate(user_id, version=body.version, actor=actor_of(principal))
    return user_read(doc)


@router.post(
    "/users/{user_id}/tokens",
    summary="Issue a bearer token (shown once).",
    status_code=201,
    responses=WRITE,
)
async def issue_token(
    principal: Admin, users: UsersDep, user_id: UserIdPath, body: TokenCreate
) -> TokenIssued:
    """Signed with the secret every service shares; the user keeps only its id."""
    issued = await users.issue_token(
        user_id, ttl=timedelta(days=body.ttl_days), note=body.note, actor=actor_of(principal)
    )
    return TokenIssued(
        token=issued.token, token_id=issued.token_id, user_id=user_id, expires_at=issued.expires_at
    )


@router.delete(
    "/tokens/{token_id}",
    summary="Revoke a token: every service refuses it from now on.",
    responses=WRITE,
)
async def revoke_token(principal: Admin, users: UsersDep, token_id: TokenIdPath) -> TokenRevocation:
    """This service at once; the others when `token.revoked` reaches them (idempotent)."""
    record = await users.revoke_token(token_id, actor=actor_of(principal))
    return TokenRevocation.model_validate(record)


@router.put(
    "/users/{user_id}/password",
    summary="Set or reset a user's password (changed at the next sign-in).",
    responses=WRITE,
)
async def set_password(
    principal: Admin, sign_in: SignInDep, user_id: UserIdPath, body: PasswordSet
) -> UserRead:
    """Only its hash is kept; lifts a lock and revokes the user's sign-in sessions."""
    doc = await sign_in.set_password(
        user_id, password=body.password.get_secret_value(), actor=actor_of(principal)
    )
    return user_read(doc)


@router.post(
    "/users/{user_id}/unlock",
    summary="Lift a lock left by failed sign-ins.",
    responses=GET_ONE,
)
async def unlock_user(principal: Admin, sign_in: SignInDep, user_id: UserIdPath) -> UserRead:
    """Forgets the failed attempts too (idempotent)."""
    return user_read(await sign_in.unlock(user_id, actor=actor_of(principal)))


@auth_router.post(
    "/login", summary="Sign in: a token for a user name and password.", responses=SIGN_IN
)
async def login(sign_in: SignInDep, body: SignInCredentials) -> TokenIssued:
    """A session token (`session_ttl_h`) like those an admin issues; no token needed to ask."""
    issued = await sign_in.sign_in(body.user_id, password=body.password.get_secret_value())
    return TokenIssued(
        token=issued.token,
        token_id=issued.token_id,
        user_id=body.user_id,
        expires_at=issued.expires_at,
    )


@auth_router.post(
    "/password", summary="Change one's password, then be signed in.", responses=CHANGE
)
async def change_password(sign_in: SignInDep, body: PasswordChange) -> TokenIssued:
    """Checks the old password as signing in does; ends the sessions of the old password."""
    issued = await sign_in.change_password(
        body.user_id,
        old=body.old_password.get_secret_value(),
        new=body.new_password.get_secret_value(),
    )
    return TokenIssued(
        token=issued.token,
        token_id=issued.token_id,
        user_id=body.user_id,
        expires_at=issued.expires_at,
    )


@auth_router.post("/logout", summary="Sign out: revoke the token used for this call.")
async def logout(principal: CurrentPrincipal, users: UsersDep) -> TokenRevocation:
    """Every service refuses the token from now on (`token.revoked`)."""
    record = await users.revoke_token(principal.token_id, actor=actor_of(principal))
    return TokenRevocation.model_validate(record)
