"""Scripted people of the commission, acting only through the services' public HTTP APIs.

The demo, the end-to-end tests and the pipeline benchmark share them: an office (clerk,
office head, office leader, principal leader) and, per unit, a handler, a unit head and a
unit leader. Each person holds a bearer token (issued through routing's admin API when it
has one, otherwise minted with the deployment's secret, as an operator's bootstrap would)
and never touches a database. A person reads a letter (`GET /letters/{id}`: state,
version, allowed actions), acts with the version read, and reads again after a 409 for a
stale version. Waiting for another service's effect is bounded polling whose error names
the letter, its plan and the state it was stuck in.

This module holds the people, their HTTP calls and the waiting; `office` and
`units` hold what each desk does; `script` drives a letter along its plan.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import httpx

from shared.auth import Role, TokenCodec

T = TypeVar("T")
Json = dict[str, Any]

# A person who keeps losing the race against other writers of the same letter (event
# consumers bump its version too) gives up after this many fresh reads.
MAX_STALE_RETRIES = 12
# A person whose answer was lost (the service went down mid-request, or failed with a 5xx)
# reads the letter again before trying again; after this many losses in one action, gives up.
MAX_LOST_ANSWERS = 6
LOST_ANSWER_PAUSE_S = 0.5
TOKEN_TTL = timedelta(hours=12)
# Passwords set at once through the admin API: routing hashes a few at a time anyway.
PASSWORD_SETTERS = 4


class ActorError(RuntimeError):
    """An actor could not do what its plan says; the message names the letter and its state."""


class ApiError(ActorError):
    """A service answered an actor's call with an error."""

    def __init__(self, *, who: str, method: str, url: str, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        self.code = body.get("error") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else str(body)[:300]
        super().__init__(f"{who}: {method} {url} answered {status} {self.code or ''}: {message}")


@dataclass(frozen=True)
class Urls:
    """Where the services and the simulator of one deployment answer."""

    intake: str
    routing: str
    deadlines: str
    publishing: str
    simulator: str
    console: str | None = None  # where the deployment runs it

    def of(self, service: str) -> str:
        """Base URL of a service by name."""
        url: str = getattr(self, service)
        return url

    @classmethod
    def from_lookup(cls, url: Callable[[str], str]) -> Urls:
        """From a deployment's `url(name)` (e.g. `LocalDeployment.url`)."""
        names = ("intake", "routing", "deadlines", "publishing", "simulator")
        try:
            console: str | None = url("console")
        except KeyError:  # a deployment without the console
            console = None
        return cls(**{name: url(name) for name in names}, console=console)


@dataclass(frozen=True)
class Person:
    """Somebody who acts: an office member, a unit member, or the administrator."""

    user_id: str
    name: str
    role: Role
    unit_id: str | None = None

    def __str__(self) -> str:
        where = f"@{self.unit_id}" if self.unit_id else ""
        return f"{self.name} ({self.role.value}{where})"


ADMIN = Person("admin", "系统管理员", Role.admin)
CLERK = Person("gkxx.clerk", "王晓清", Role.office_clerk)
OFFICE_HEAD = Person("gkxx.head", "李建国", Role.office_head)
OFFICE_LEADER = Person("gkxx.leader", "陈志远", Role.office_leader)
PRINCIPAL = Person("gkxx.principal", "刘振华", Role.principal_leader)
OFFICE = (CLERK, OFFICE_HEAD, OFFICE_LEADER, PRINCIPAL)

_UNIT_SURNAMES = "赵钱孙周吴郑冯褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
_UNIT_GIVEN = ("明", "芳", "强")


def unit_staff(unit_id: str, *, index: int) -> tuple[Person, Person, Person]:
    """A unit's handler (经办人员), unit head (处室负责人) and unit leader (分管委领导)."""
    surname = _UNIT_SURNAMES[index % len(_UNIT_SURNAMES)]
    roles = (Role.unit_handler, Role.unit_head, Role.unit_leader)
    suffixes = ("handler", "head", "leader")
    handler, head, leader = (
        Person(f"{unit_id}.{suffix}", f"{surname}{given}", role, unit_id)
        for role, suffix, given in zip(roles, suffixes, _UNIT_GIVEN, strict=True)
    )
    return handler, head, leader


class Api:
    """One person's calls to the services: bearer token, JSON in and out, errors in context."""

    def __init__(
        self, client: httpx.AsyncClient, *, urls: Urls, person: Person, token: str
    ) -> None:
        self.client = client
        self.urls = urls
        self.person = person
        self._headers = {"Authorization": f"Bearer {token}"}
        self.intake = Endpoint(self, service="intake")
        self.routing = Endpoint(self, service="routing")
        self.deadlines = Endpoint(self, service="deadlines")
        self.publishing = Endpoint(self, service="publishing")

    async def request(
        self,
        method: str,
        *,
        service: str,
        path: str,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """The decoded JSON answer (None for an empty one); ApiError for any error status."""
        url = self.urls.of(service) + path
        response = await self.client.request(
            method, url, json=json, params=params, headers=self._headers
        )
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            raise ApiError(
                who=str(self.person),
                method=method,
                url=path,
                status=response.status_code,
                body=body,
            )
        if not response.content:
            return None
        if "json" not in response.headers.get("content-type", ""):
            return response.text
        return response.json()

    async def letter(self, letter_id: str) -> Json:
        """The letter as routing shows it to this person."""
        letter: Json = await self.routing.get(f"/letters/{letter_id}")
        return letter


class Endpoint:
    """One person's calls to one service."""

    def __init__(self, api: Api, *, service: str) -> None:
        self._api = api
        self._service = service

    async def get(self, path: str, **params: Any) -> Any:
        """GET with query parameters (None values left out)."""
        clean = {k: v for k, v in params.items() if v is not None}
        return await self._api.request(
            "GET", service=self._service, path=path, params=clean or None
        )

    async def post(self, path: str, *, body: Mapping[str, Any] | None = None) -> Any:
        """POST a JSON body (an empty object when none is given)."""
        payload = body if body is not None else {}
        return await self._api.request("POST", service=self._service, path=path, json=payload)

    async def put(self, path: str, *, body: Mapping[str, Any]) -> Any:
        """PUT a JSON body."""
        return await self._api.request("PUT", service=self._service, path=path, json=body)


@dataclass
class Cast:
    """Everybody's token, and how they were obtained."""

    tokens: dict[str, str]
    people: dict[str, Person]
    how: str
    units: tuple[str, ...] = ()
    staff: dict[str, tuple[Person, Person, Person]] = field(default_factory=dict)
    # user id -> the first password an admin set (changed at the first sign-in); demo only.
    passwords: dict[str, str] = field(default_factory=dict)

    def api(self, person: Person, *, client: httpx.AsyncClient, urls: Urls) -> Api:
        """A person's API client."""
        return Api(client, urls=urls, person=person, token=self.tokens[person.user_id])


def everybody(
    units: tuple[str, ...],
) -> tuple[list[Person], dict[str, tuple[Person, Person, Person]]]:
    """The office and the staff of each unit."""
    staff = {unit: unit_staff(unit, index=i) for i, unit in enumerate(units)}
    people = [*OFFICE, *(p for trio in staff.values() for p in trio)]
    return people, staff


def mint(person: Person, *, secret: str) -> str:
    """A token signed with the deployment's secret (the operator's bootstrap)."""
    issued = TokenCodec(secret).issue(
        user_id=person.user_id,
        name=person.name,
        role=person.role,
        unit_id=person.unit_id,
        ttl=TOKEN_TTL,
    )
    return issued.token


async def enrol(
    client: httpx.AsyncClient,
    *,
    urls: Urls,
    secret: str,
    units: tuple[str, ...],
    passwords: bool = False,
) -> Cast:
    """Tokens for the office and the units' staff (and, asked, a first password each).

    The first admin token is minted with the deployment's secret, as a bootstrap would.
    When routing has its admin API for users, every person is created there and given a
    token by that admin; otherwise each token is minted the same way as the admin's.
    With `passwords`, the admin also sets each person a random first password there, so
    that people can sign in (development only: the demo prints them).
    """
    people, staff = everybody(units)
    admin_token = mint(ADMIN, secret=secret)
    tokens = {ADMIN.user_id: admin_token}
    admin = Api(client, urls=urls, person=ADMIN, token=admin_token)
    how = "minted with the deployment's token secret (routing has no user admin API)"
    first: dict[str, str] = {}
    if await _has_user_api(admin):
        for person in people:
            tokens[person.user_id] = await _issue_through_routing(admin, person=person)
        how = "created through routing's admin API (POST /admin/users, …/tokens)"
        if passwords:
            first = await _set_passwords(admin, people=people)
    else:
        tokens.update({person.user_id: mint(person, secret=secret) for person in people})
    everyone = {p.user_id: p for p in (ADMIN, *people)}
    return Cast(tokens=tokens, people=everyone, how=how, units=units, staff=staff, passwords=first)


async def _set_passwords(admin: Api, *, people: list[Person]) -> dict[str, str]:
    """A random first password per person, set by the admin (PUT …/password)."""
    gate = asyncio.Semaphore(PASSWORD_SETTERS)
    chosen = {person.user_id: f"demo-{secrets.token_urlsafe(9)}" for person in people}

    async def one(person: Person) -> None:
        async with gate:
            body = {"password": chosen[person.user_id]}
            await admin.routing.put(f"/admin/users/{person.user_id}/password", body=body)

    await asyncio.gather(*(one(person) for person in people))
    return chosen


async def _has_user_api(admin: Api) -> bool:
    spec = await admin.routing.get("/openapi.json")
    paths = spec.get("paths", {}) if isinstance(spec, dict) else {}
    return "/admin/users" in paths and "/admin/users/{user_id}/tokens" in paths


async def _issue_through_routing(admin: Api, *, person: Person) -> str:
    body = {
        "id": person.user_id,
        "name": person.name,
        "role": person.role.value,
        "unit_id": person.unit_id,
    }
    try:
        await admin.routing.post("/admin/users", body=body)
    except ApiError as exc:
        if exc.status != 409:
            raise
        # A rerun against a kept database finds its people there; anybody else is a clash.
        known = await admin.routing.get(f"/admin/users/{person.user_id}")
        if (known.get("role"), known.get("unit_id")) != (person.role.value, person.unit_id):
            raise ActorError(
                f"user id {person.user_id} is taken by a {known.get('role')} of"
                f" {known.get('unit_id')}, not {person}"
            ) from exc
    issued = await admin.routing.post(
        f"/admin/users/{person.user_id}/tokens",
        body={"ttl_days": max(1, TOKEN_TTL.days), "note": "scripted actor"},
    )
    token: str = issued["token"]
    return token


# -- waiting ------------------------------------------------------------------------------------


class Stuck(ActorError):
    """Something expected of another service did not happen in time."""


async def wait_until(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout_s: float,
    what: Callable[[], str] | str,
    interval_s: float = 0.15,
) -> T:
    """Poll `probe` until it returns a value; Stuck (naming `what`) after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    pause = interval_s
    while True:
        found = await probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            text = what() if callable(what) else what
            raise Stuck(f"{text} (waited {timeout_s:.0f} s)")
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 1.0)


async def act(
    api: Api,
    *,
    letter_id: str,
    action: str,
    method: str,
    path: str,
    body: Mapping[str, Any] | Callable[[Json], Mapping[str, Any]] | None = None,
    label: str = "",
) -> Json:
    """Read the letter, check `action` is offered, act with the version read; retry if stale.

    When the answer is lost (the connection dropped mid-request, or a 5xx), the action may
    or may not have been taken: the person reads the letter again, as one reloads a page,
    and acts again only if the action is still offered; if it is not, or the service
    answers the new attempt with a conflict (done already), it was taken.
    """
    stale = lost = 0
    while True:
        letter = await api.letter(letter_id)
        if action not in letter["allowed_actions"]:
            if lost:
                return letter
            raise ActorError(
                f"letter {letter_id}{label}: {api.person} cannot {action} while it is"
                f" '{letter['state']}' (offered: {', '.join(letter['allowed_actions']) or 'none'})"
            )
        fields = body(letter) if callable(body) else dict(body or {})
        payload = {**fields, "version": letter["version"]}
        try:
            updated: Json = await api.request(
                method, service="routing", path=f"/letters/{letter_id}{path}", json=payload
            )
            return updated
        except ApiError as exc:
            if exc.status == 409 and exc.code == "stale_version":
                stale += 1
                if stale >= MAX_STALE_RETRIES:
                    raise ActorError(
                        f"letter {letter_id}{label}: {api.person} kept reading a stale version"
                        f" for {action}"
                    ) from exc
                continue
            if exc.status == 409 and lost:
                # The lost attempt was taken after all (an action offered per letter, such
                # as answering one of several assist requests, stays offered): done.
                return await api.letter(letter_id)
            if exc.status < 500 or lost >= MAX_LOST_ANSWERS:
                raise ActorError(f"letter {letter_id}{label}: {exc}") from exc
        except httpx.TransportError as exc:
            if lost >= MAX_LOST_ANSWERS:
                raise ActorError(
                    f"letter {letter_id}{label}: {api.person} lost the answer to {action}"
                    f" {lost + 1} times: {type(exc).__name__}: {exc}"
                ) from exc
        lost += 1
        await asyncio.sleep(LOST_ANSWER_PAUSE_S * lost)


async def wait_for_state(
    api: Api, *, letter_id: str, states: set[str], timeout_s: float, label: str = ""
) -> Json:
    """Poll the letter until its state is one of `states`."""
    seen: Json = {}

    async def probe() -> Json | None:
        nonlocal seen
        seen = await api.letter(letter_id)
        return seen if seen["state"] in states else None

    def what() -> str:
        return (
            f"letter {letter_id}{label} stuck in '{seen.get('state')}',"
            f" expected {' or '.join(sorted(states))}"
        )

    return await wait_until(probe, timeout_s=timeout_s, what=what)


async def wait_for_letter(
    api: Api, *, letter_id: str, check: Callable[[Json], bool], timeout_s: float, what: str
) -> Json:
    """Poll the letter until `check` holds; the error says what was awaited and the state."""
    seen: Json = {}

    async def probe() -> Json | None:
        nonlocal seen
        seen = await api.letter(letter_id)
        return seen if check(seen) else None

    return await wait_until(
        probe,
        timeout_s=timeout_s,
        what=lambda: f"letter {letter_id}: {what} (state '{seen.get('state')}')",
    )
