"""`mailbox bench console`: the console's 待办 and a letter's page with many letters stored.

The simulator, the four services and the console run as processes on the local stack in a
namespace of their own (databases, exchange, timers), wiped before and after. A few
template letters take the real path: put on the simulator, registered by routing, and some
worked by the scripted office and unit through the public APIs (left registered, assigned
to a unit, or answered, published and archived). The store is then filled to `--letters`
by copying the templates' documents, as routing wrote them, straight into routing's
database (`letters` and, with `--audit`, each copy's audit trail): fresh ids, external ids
and times spread over the past year, outboxes empty. Most copies are archived; the open
ones (`--open-share`) are split between the clerk's desk (registered) and the unit's
(assigned), so 待办 holds a realistic backlog.

Then a clerk and a unit head sign in through the console's form and each page is
fetched `--requests` times, one at a time, over real HTTP: the clerk's and the unit head's
待办, the letters list, a template letter with its whole history and a copied one. The same
reads straight from routing's API (with the person's token) show what the console adds.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx

from devkit.actors.people import CLERK, Cast, Person, Urls, enrol
from devkit.actors.script import Case, Plan, SimLetter, Troupe
from devkit.bench.copies import copy_letter, copy_trail
from devkit.bench.driver import percentiles
from devkit.demo.runner import seed, wipe_namespace
from devkit.launcher import SERVICES, LocalDeployment, free_ports
from devkit.simulator.letters import draft_letter
from services.routing.letters.repository import Desk
from services.routing.letters.worklist import DESK_FIELDS, on_some_desk, worklist
from shared.auth import Principal
from shared.ids import new_id
from shared.mongo import Document, make_client
from shared.platforms.config import GOV_MAILBOX

Figures = dict[str, Any]
TARGET_P95_MS = 300.0
UNIT = "market-order"
# Documents written per insert command while filling the store.
BATCH = 100
WARM_UP = 3
# Production's settings but for intake's poll and publishing's archiver, so that the template
# letters get through in seconds (neither reads routing's letters); routing's sweeps (outbox,
# unit notices) run at production's intervals, on the stored letters as in production.
BENCH_ENV = {
    "MAILBOX_INTAKE_POLL_INTERVAL_S": "1",
    "MAILBOX_PUBLISHING_UPLOAD_POLL_INTERVAL_S": "1",
    "MAILBOX_PUBLISHING_ARCHIVE_INTERVAL_S": "2",
    "MAILBOX_LOG_LEVEL": "WARNING",
}
# Direct database timings per worklist (each can take seconds on FerretDB).
DB_REQUESTS = 20
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class ConsoleBenchOptions:
    """What `mailbox bench console` was asked for."""

    letters: int = 10_000
    requests: int = 100
    list_requests: int = 10
    open_share: float = 0.05
    audit: bool = False
    templates: int = 6
    progress: Callable[[str], None] = lambda _text: None


def console_figures(options: ConsoleBenchOptions) -> Figures:
    """Run the benchmark; its figures (an `error` figure when it could not run)."""
    try:
        return asyncio.run(_run(options))
    except (OSError, httpx.HTTPError, TimeoutError, RuntimeError) as error:
        return {"letters": options.letters, "error": f"{type(error).__name__}: {error}"}


async def _run(options: ConsoleBenchOptions) -> Figures:
    say = options.progress
    names = (*SERVICES, "console", "simulator")
    deployment = LocalDeployment(
        namespace=f"bench_console_{new_id('b').lower()}",
        ports=free_ports(names),
        extra_env=BENCH_ENV,
    )
    figures: Figures = {
        "letters": options.letters,
        "requests_per_page": options.requests,
        "load_average_at_start": os.getloadavg(),
    }
    await wipe_namespace(deployment)
    try:
        say("starting the simulator, the four services and the console")
        await deployment.start()
        urls = Urls.from_lookup(deployment.url)
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
            cast = await enrol(
                client, urls=urls, secret=deployment.token_secret, units=(UNIT,), passwords=True
            )
            say(f"{options.templates} template letters through the real path")
            templates = await _templates(client, cast=cast, urls=urls, count=options.templates)
            say(f"filling the store to {options.letters} letters")
            started = time.perf_counter()
            stored = await _fill(deployment, templates=templates, options=options)
            figures["fill"] = {**stored, "seconds": round(time.perf_counter() - started, 1)}
            say(f"filled in {figures['fill']['seconds']} s")
            # The unit head: an assigned letter waits for them to name its handler, so the
            # copies are in their 待办 (the unit's handler has none until named).
            handler = cast.staff[UNIT][1]
            figures["pages"] = await _measure(
                client,
                cast=cast,
                urls=urls,
                people=(CLERK, handler),
                templates=templates,
                options=options,
                database=(
                    deployment.env()["MAILBOX_MONGO_URL"],
                    deployment.env()["MAILBOX_ROUTING_MONGO_DB"],
                ),
            )
    finally:
        await deployment.stop_all()
        try:
            await wipe_namespace(deployment)
        except Exception as error:  # a busy database server: say so beside the figures
            figures["cleanup_error"] = f"{type(error).__name__}: {error}"[:300]
    if "pages" not in figures:
        return figures
    worst = max(
        (p["console"]["p95_ms"] for p in figures["pages"].values() if "p95_ms" in p["console"]),
        default=None,
    )
    figures["load_average_at_end"] = os.getloadavg()
    figures["target_p95_ms"] = TARGET_P95_MS
    figures["worst_p95_ms"] = worst
    figures["target_met"] = worst is not None and worst < TARGET_P95_MS
    return figures


@dataclass(frozen=True)
class Templates:
    """The template letters' ids by the state they were left in."""

    archived: list[str]
    assigned: list[str]
    registered: list[str]


async def _templates(client: httpx.AsyncClient, *, cast: Cast, urls: Urls, count: int) -> Templates:
    """`count` letters (at least 3) put on the simulator and worked into three states."""
    rng = random.Random(11)  # noqa: S311 - repeatable sample letters, not secrets
    now = datetime.now(UTC).replace(microsecond=0)
    plan = Plan(name="bench", description="answered online", lead_unit_id=UNIT)
    cases = []
    for index in range(max(3, count)):
        draft = draft_letter(rng)
        letter = SimLetter(
            external_id=f"bench-template-{index}",
            platform=GOV_MAILBOX,
            title=draft.title,
            text=draft.text,
            person={k: v for k, v in draft.person.model_dump().items() if v},
            submitted_at=now - timedelta(minutes=count - index),
            source="generated",
        )
        cases.append(Case(key=f"T{index}", plan=plan, letter=letter))
    await seed(client, urls=urls, cases=cases)
    troupe = Troupe(cast, client, urls, timeout_s=120.0)
    third = len(cases) // 3
    archived, assigned, registered = cases[:third], cases[third : 2 * third], cases[2 * third :]
    await asyncio.gather(*(troupe.drive(case) for case in archived))
    office = troupe.office
    for case in (*assigned, *registered):
        case.letter_id = await troupe.registry.letter_id(
            GOV_MAILBOX, external_id=case.letter.external_id, timeout_s=120.0
        )
    for case in assigned:
        assert case.letter_id is not None
        stored = await office.clerk.letter(case.letter_id)
        slip = {
            "nature": stored["nature"],
            "accepted": True,
            "route": "direct",
            "lead_unit_id": UNIT,
            "assisting_unit_ids": [],
            "major": False,
            "opinion": f"来信反映的问题属我委职责范围，建议由{UNIT}牵头直办。",
        }
        await office.draft_slip(case.letter_id, slip=slip, label="")
        await office.submit_slip(case.letter_id, label="")
        await office.approve_slip(case.letter_id, comment="同意。", label="")
    return Templates(
        archived=[str(c.letter_id) for c in archived],
        assigned=[str(c.letter_id) for c in assigned],
        registered=[str(c.letter_id) for c in registered],
    )


async def _fill(
    deployment: LocalDeployment, *, templates: Templates, options: ConsoleBenchOptions
) -> Figures:
    """Copies of the templates straight into routing's database, up to `options.letters`."""
    env = deployment.env()
    # Large inserts on a busy machine: waits longer than a service's.
    client = make_client(
        env["MAILBOX_MONGO_URL"],
        socket_timeout_s=300.0,
        connect_timeout_s=10.0,
        server_selection_timeout_s=30.0,
    )
    db = client[env["MAILBOX_ROUTING_MONGO_DB"]]
    rng = random.Random(5)  # noqa: S311 - a repeatable spread, not secrets
    try:
        ids = [*templates.archived, *templates.assigned, *templates.registered]
        docs = {d["_id"]: d async for d in db["letters"].find({"_id": {"$in": ids}})}
        trails: dict[str, list[Document]] = {i: [] for i in ids}
        if options.audit:
            async for entry in db["audit"].find({"letter_id": {"$in": ids}}):
                trails[str(entry["letter_id"])].append(entry)
        missing = options.letters - len(ids)
        open_count = round(missing * options.open_share)
        kinds = (
            ["registered"] * (open_count // 2)
            + ["assigned"] * (open_count - open_count // 2)
            + ["archived"] * (missing - open_count)
        )
        by_kind = {
            "archived": templates.archived,
            "assigned": templates.assigned,
            "registered": templates.registered,
        }
        letters: list[Document] = []
        entries: list[Document] = []
        desk: list[Document] = []
        index_of = Desk(db["desk"], letters=db["letters"], keep=on_some_desk, fields=DESK_FIELDS)
        written = Counter[str]()
        for index, kind in enumerate(kinds):
            template_id = rng.choice(by_kind[kind])
            # Open letters came in the last days, archived ones over the past year.
            days = rng.uniform(0, 10) if kind != "archived" else rng.uniform(15, 365)
            delta = timedelta(days=days, seconds=rng.randrange(86_400))
            letter_id = new_id("ltr")
            copy = copy_letter(docs[template_id], letter_id=letter_id, index=index, delta=delta)
            trail = copy_trail(
                trails[template_id], template_id=template_id, letter_id=letter_id, delta=delta
            )
            # The copy's own entries (none without `--audit`), as routing keeps their ids.
            copy["audit_ids"] = [entry["_id"] for entry in trail]
            copy["audit_ids_complete"] = True
            entries += trail
            letters.append(copy)
            if on_some_desk(copy):
                # 待办's index entry, as routing writes it beside each letter it changes.
                desk.append(index_of.entry(copy))
            written[kind] += 1
            if len(letters) >= BATCH:
                await db["letters"].insert_many(letters, ordered=False)
                letters = []
            if len(desk) >= BATCH:
                await db["desk"].insert_many(desk, ordered=False)
                written["desk_entries"] += len(desk)
                desk = []
            if len(entries) >= 4 * BATCH:
                await db["audit"].insert_many(entries, ordered=False)
                written["audit_entries"] += len(entries)
                entries = []
            if index and index % 2000 == 0:
                options.progress(f"  {index} of {len(kinds)} copies written")
        if letters:
            await db["letters"].insert_many(letters, ordered=False)
        if desk:
            await db["desk"].insert_many(desk, ordered=False)
            written["desk_entries"] += len(desk)
        if entries:
            await db["audit"].insert_many(entries, ordered=False)
            written["audit_entries"] += len(entries)
        # Counted as written: a count on FerretDB v1 reads every document (minutes here).
        stored = len(ids) + len(kinds)
        audit = sum(len(t) for t in trails.values()) + written["audit_entries"]
    finally:
        await client.close()
    return {
        "letters_stored": stored,
        "audit_entries_stored": audit if options.audit else None,
        "copies": dict(written),
        "templates": {k: len(v) for k, v in by_kind.items()},
    }


@asynccontextmanager
async def _signed_in(
    urls: Urls, *, user_id: str, password: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client signed in through the console's form (its own cookies)."""
    assert urls.console is not None
    async with httpx.AsyncClient(base_url=urls.console, timeout=60.0) as browser:
        page = await browser.get("/login")
        found = _CSRF.search(page.text)
        if found is None:
            raise RuntimeError(f"no sign-in form at {urls.console}/login: {page.status_code}")
        form = {"user_id": user_id, "password": password, "csrf_token": found.group(1)}
        answer = await browser.post("/login", data=form)
        if answer.status_code != 303:
            raise RuntimeError(f"{user_id} could not sign in: {answer.status_code}")
        yield browser


async def _own_password(
    client: httpx.AsyncClient, *, urls: Urls, cast: Cast, person: Person
) -> str:
    """The person replaces the admin's first password (as the console asks at first)."""
    chosen = f"{person.user_id}-bench-password"
    body = {
        "user_id": person.user_id,
        "old_password": cast.passwords[person.user_id],
        "new_password": chosen,
    }
    answer = await client.post(urls.routing + "/auth/password", json=body)
    answer.raise_for_status()
    return chosen


async def _timed(
    fetch: Callable[[], Awaitable[httpx.Response]], *, requests: int
) -> tuple[list[float], int, set[int]]:
    """Milliseconds of each of `requests` calls (after a warm-up), the last body's size and
    the statuses seen."""
    statuses: set[int] = set()
    size = 0
    for _ in range(WARM_UP):
        await fetch()
    times: list[float] = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await fetch()
        times.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
        size = len(response.content)
    return sorted(times), size, statuses


async def _measure(
    client: httpx.AsyncClient,
    *,
    cast: Cast,
    urls: Urls,
    people: tuple[Person, Person],
    templates: Templates,
    options: ConsoleBenchOptions,
    database: tuple[str, str],
) -> Figures:
    clerk, handler = people
    passwords = {
        p.user_id: await _own_password(client, urls=urls, cast=cast, person=p) for p in people
    }
    archived = templates.archived[0]
    routing = urls.routing
    pages: Figures = {}
    async with (
        _signed_in(urls, user_id=clerk.user_id, password=passwords[clerk.user_id]) as office,
        _signed_in(urls, user_id=handler.user_id, password=passwords[handler.user_id]) as unit,
    ):
        copied = await _a_copy(client, urls=urls, token=cast.tokens[handler.user_id])
        plan = {
            "worklist_clerk": (office, "/worklist", clerk, "/letters/worklist"),
            "worklist_handler": (unit, "/worklist", handler, "/letters/worklist"),
            "letter_archived_template": (
                office,
                f"/letters/{archived}",
                clerk,
                f"/letters/{archived}",
            ),
            **(
                {
                    "letter_audit_fragment_clerk": (
                        office,
                        f"/letters/{archived}/audit",
                        clerk,
                        f"/letters/{archived}/dossier",
                    )
                }
                if options.audit
                else {}
            ),
            "letter_open_copy_handler": (unit, f"/letters/{copied}", handler, f"/letters/{copied}"),
            # Last: on FerretDB v1 the list sorts every letter in memory (see the README).
            **(
                {"letters_list_clerk": (office, "/letters", clerk, "/letters")}
                if options.list_requests
                else {}
            ),
        }
        for name, (browser, page, person, api) in plan.items():
            requests = options.list_requests if name == "letters_list_clerk" else options.requests
            options.progress(f"measuring {name}: {requests} requests")
            bearer = {"Authorization": f"Bearer {cast.tokens[person.user_id]}"}
            times, size, statuses = await _timed(partial(browser.get, page), requests=requests)
            api_times, _, api_statuses = await _timed(
                partial(client.get, routing + api, headers=bearer), requests=requests
            )
            pages[name] = {
                "path": page,
                "console": {**percentiles(times), "bytes": size, "statuses": sorted(statuses)},
                "routing_api": {
                    "path": api,
                    **percentiles(api_times),
                    "statuses": sorted(api_statuses),
                },
            }
            if api == "/letters/worklist":
                pages[name]["database"] = await _worklist_on_database(
                    database, person=person, requests=min(options.requests, DB_REQUESTS)
                )
            console, direct = pages[name]["console"], pages[name]["routing_api"]
            p95 = (console.get("p95_ms"), direct.get("p95_ms"))
            options.progress(f"  {name}: p95 console {p95[0]} ms, routing {p95[1]} ms")
    return pages


async def _worklist_on_database(
    database: tuple[str, str], *, person: Person, requests: int
) -> Figures:
    """Routing's own worklist code straight on its index (no HTTP, no token check): how
    much of the page is the database's query and the scan of what it returns."""
    url, name = database
    client = make_client(url, socket_timeout_s=120.0)
    principal = Principal(
        user_id=person.user_id,
        name=person.name,
        role=person.role,
        unit_id=person.unit_id,
        token_id="bench",  # noqa: S106 - a token id, not a secret
    )
    desk = client[name]["desk"]
    try:
        times: list[float] = []
        found = 0
        for _ in range(requests):
            started = time.perf_counter()
            items, _ = await worklist(desk, principal, now=datetime.now(UTC))
            times.append((time.perf_counter() - started) * 1000)
            found = len(items)
        return {**percentiles(sorted(times)), "items": found}
    finally:
        await client.close()


async def _a_copy(client: httpx.AsyncClient, *, urls: Urls, token: str) -> str:
    """An open copied letter of the unit (one of the unit head's 待办)."""
    for _ in range(5):  # a busy database server may answer 503 for a while
        answer = await client.get(
            urls.routing + "/letters/worklist", headers={"Authorization": f"Bearer {token}"}
        )
        if answer.status_code != 503:
            break
        await asyncio.sleep(2.0)
    answer.raise_for_status()
    for item in answer.json()["items"]:
        external_id = str(item["letter"].get("external_id") or "")
        if external_id.startswith("bench-") and not external_id.startswith("bench-template"):
            return str(item["letter"]["id"])
    raise RuntimeError("no copied letter in the unit head's 待办")
