"""`mailbox bench pipeline`: letters through the whole pipeline, and the bare stack beside it.

The simulator and the four services run as processes on the local stack, in a namespace of
their own (databases, exchange, timers), wiped before and after. Scripted office and unit
people (`driver.Desk`) work every letter through routing's API as soon as the exchange
announces its suggestion (`letter.classified`); publishing uploads the answer and the letter
counts as done when `letter.published` reaches the benchmark's own queue.

Two phases, in this order:
- latency: letters put on the simulator one at a time at a fixed rate; per-stage latencies
  (received → suggested, accepted → handling clock opened, approved → uploaded, not accepted
  → uploaded) from the events' `occurred_at`, and put → published as the benchmark saw it;
- throughput: N letters put at once; letters/s = N / (last publication seen − first put).

Then each service's peak resident memory (VmHWM), and, once the services are down, the
baselines of `devkit.bench.baseline` on the same servers: a bare persistent publish → consume →
ack loop with confirms, and a bare insert-and-update loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import resource
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from devkit.actors.people import ActorError, ApiError, Urls, enrol
from devkit.bench.baseline import broker_round_trips, database_round_trips
from devkit.bench.cost import CpuMeter, commands_per_letter, database_server_pid
from devkit.bench.driver import Desk, EventLog, Trace, percentiles, stage_figures
from devkit.bench.growth import preload
from devkit.demo.runner import wipe_namespace
from devkit.demo.scenarios import PLATFORMS
from devkit.launcher import SERVICES, LocalDeployment, free_ports
from devkit.simulator.cli import DEFAULT_ADMIN_TOKEN
from devkit.simulator.letters import draft_letter
from services.routing.directory.models import load_directory
from shared.events.vocabulary import PublicationMode
from shared.ids import new_id

Figures = dict[str, Any]
TARGET_LETTERS_PER_S = 100.0
TARGET_P99_MS = 500.0
# How long a phase waits, after the last publication, for stage events still on their way.
STAGE_EVENTS_WAIT_S = 120.0
TARGET_STAGES = ("received_to_suggested", "accepted_to_clock_opened", "approved_to_uploaded")
# The services' settings for the run: production's, except that intake polls every second
# (a production intake polls each platform once a minute); logs at WARNING.
BENCH_ENV = {"MAILBOX_INTAKE_POLL_INTERVAL_S": "1", "MAILBOX_LOG_LEVEL": "WARNING"}


# How long the actors get, after a phase's last publication, to finish what they hold.
ACTORS_SETTLE_S = 30.0
# Letters worked to publication before a growth run's copies are made of them.
SEED_LETTERS = 2


@dataclass(frozen=True)
class PipelineOptions:
    """What `mailbox bench pipeline` was asked for."""

    letters: int = 2000
    rate_per_s: float = 20.0
    latency_letters: int = 200
    not_accepted_share: float = 0.1
    not_public_share: float = 0.2
    concurrency: int = 48
    baseline_n: int = 2000
    timeout_s: float = 1800.0
    seed: int = 7
    stored: int = 0
    log_dir: Path | None = None
    progress: Callable[[str], None] | None = None


@dataclass(frozen=True)
class Intent:
    """How the office and the unit will answer one letter."""

    accept: bool
    mode: PublicationMode


def pipeline_figures(options: PipelineOptions) -> Figures:
    """Run the benchmark; its figures (an `error` figure when the local stack is down)."""
    try:
        return asyncio.run(run_pipeline(options))
    except TimeoutError as error:  # an OSError too: not the stack being down
        return {
            "letters": options.letters,
            "error": f"timed out: {error or 'a bounded wait ran out'}",
        }
    except OSError as error:
        return {"letters": options.letters, "error": f"local stack not reachable: {error}"}


class Letters:
    """The benchmark's letters: simulator payloads, and how each will be answered."""

    def __init__(self, *, seed: int, options: PipelineOptions) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - repeatable sample letters, not secrets
        self._options = options
        self.intents: dict[str, Intent] = {}
        self._accepted = 0

    def make(self, prefix: str, count: int) -> list[tuple[str, dict[str, Any]]]:
        """`count` new letters as (platform, payload); every ~1/share-th one not accepted."""
        made = []
        share, private = self._options.not_accepted_share, self._options.not_public_share
        for n in range(count):
            draft = draft_letter(self._rng)
            external_id = f"{prefix}-{n + 1:05d}"
            accept = int((n + 1) * share) == int(n * share)
            mode = PublicationMode.online
            if accept:
                self._accepted += 1
                if int(self._accepted * private) != int((self._accepted - 1) * private):
                    mode = PublicationMode.not_public
            self.intents[external_id] = Intent(accept=accept, mode=mode)
            payload = {
                "external_id": external_id,
                "title": draft.title,
                "text": draft.text,
                "submitted_at": datetime.now(UTC).isoformat(),
                "person": {k: v for k, v in draft.person.model_dump().items() if v},
            }
            made.append((PLATFORMS[n % len(PLATFORMS)], payload))
        return made


async def put_letters(
    client: httpx.AsyncClient, *, simulator: str, letters: list[tuple[str, dict[str, Any]]]
) -> None:
    """Put letters on the simulator, one request per platform."""
    by_platform: dict[str, list[dict[str, Any]]] = {}
    for platform, payload in letters:
        by_platform.setdefault(platform, []).append(payload)
    for platform, payloads in by_platform.items():
        response = await client.post(
            simulator + "/_admin/letters",
            json={"platform_id": platform, "letters": payloads},
            headers={"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"},
        )
        if response.status_code != 200:
            raise ActorError(f"the simulator refused the letters: {response.text[:300]}")


def peak_memory_mib(deployment: LocalDeployment) -> dict[str, float | None]:
    """VmHWM (peak resident set) of each server process, and of this process."""
    peaks: dict[str, float | None] = {}
    for name, process in deployment.processes.items():
        peaks[name] = None
        if process.proc is None:
            continue
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{process.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[name] = round(int(line.split()[1]) / 1024, 1)
    # Linux reports ru_maxrss in KiB.
    peaks["bench_driver"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return peaks


class Run:
    """One deployment with the event log and the desk working letters as they arrive."""

    def __init__(self, options: PipelineOptions, deployment: LocalDeployment) -> None:
        self.options = options
        self.deployment = deployment
        env = deployment.env()
        self.log = EventLog(env["MAILBOX_AMQP_URL"], exchange=env["MAILBOX_EXCHANGE_NAME"])
        self.letters = Letters(seed=options.seed, options=options)
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.put_at: dict[str, float] = {}
        self.errors: list[str] = []
        self.error_kinds: Counter[str] = Counter()
        self.failed: set[str] = set()  # external ids the actors could not work to the end
        self.busy = 0  # letters an actor is working now
        self.urls = Urls.from_lookup(deployment.url)
        self.meter = CpuMeter({})
        self.growth: Figures | None = None

    def _classified(self, letter_id: str, trace: Trace) -> None:
        if trace.external_id in self.letters.intents:
            self.queue.put_nowait(letter_id)

    async def _worker(self, desk: Desk) -> None:
        while True:
            letter_id = await self.queue.get()
            external_id = self.log.traces[letter_id].external_id
            intent = self.letters.intents[external_id]
            self.busy += 1
            try:
                await desk.work(letter_id, accept=intent.accept, mode=intent.mode)
            except (ActorError, httpx.HTTPError) as exc:
                self.errors.append(f"{letter_id}: {type(exc).__name__}: {exc}"[:500])
                status = f" {exc.status}" if isinstance(exc, ApiError) else ""
                self.error_kinds[f"{type(exc).__name__}{status}"] += 1
                self.failed.add(external_id)
                self.log.poke()
            finally:
                self.busy -= 1

    async def _actors_done(self) -> None:
        """Wait (bounded) for the actors to finish their letters: a letter's publication can
        reach the benchmark before the answer to its last approval reaches its actor."""
        deadline = time.perf_counter() + ACTORS_SETTLE_S
        while (self.busy or not self.queue.empty()) and time.perf_counter() < deadline:  # noqa: ASYNC110 - polling counters the workers move
            await asyncio.sleep(0.05)

    async def play(self, client: httpx.AsyncClient) -> Figures:
        """Both phases; their figures."""
        units = tuple(unit.id for unit in load_directory().units)
        cast = await enrol(client, urls=self.urls, secret=self.deployment.token_secret, units=units)
        desk = Desk(cast, client=client, urls=self.urls)
        self.log.on_classified = self._classified
        workers = [asyncio.create_task(self._worker(desk)) for _ in range(self.options.concurrency)]
        try:
            if self.options.stored:
                self.growth = await self._grow(client)
            self.meter.start()
            latency = await self._latency_phase(client)
            await self._actors_done()
            requests_before = desk.stats.requests
            throughput = await self._throughput_phase(client)
            await self._actors_done()
            self.meter.stop()
            throughput["http_requests_per_letter"] = round(
                (desk.stats.requests - requests_before) / max(1, self.options.letters), 1
            )
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return {
            "latency": latency,
            "throughput": throughput,
            "actors": {
                "letters_worked": desk.stats.letters_driven,
                "http_requests": desk.stats.requests,
                "stale_version_retries": desk.stats.stale_retries,
                "errors": len(self.errors),
                "errors_by_kind": dict(self.error_kinds),
                "first_errors": self.errors[:5],
            },
            "events_seen": self.log.events_seen,
        }

    async def _grow(self, client: httpx.AsyncClient) -> Figures:
        """Work the seed letters to publication, then store `stored` copies of them."""
        letters = self.letters.make("seed", SEED_LETTERS)
        await put_letters(client, simulator=self.urls.simulator, letters=letters)
        ids = {payload["external_id"] for _, payload in letters}
        traces = await self._wait(ids, phase="seed")
        await self._actors_done()
        seeds = {
            letter_id: trace.external_id
            for letter_id, trace in self.log.traces.items()
            if trace.external_id in ids and trace.published_seen_s is not None
        }
        env = self.deployment.env()
        databases = [env[f"MAILBOX_{name.upper()}_MONGO_DB"] for name in SERVICES]
        figures = await preload(
            env["MAILBOX_MONGO_URL"], databases=databases, seeds=seeds, stored=self.options.stored
        )
        return {**figures, "seed_letters_published": len(traces)}

    async def _latency_phase(self, client: httpx.AsyncClient) -> Figures:
        letters = self.letters.make("lat", self.options.latency_letters)
        pause_s = 1.0 / self.options.rate_per_s
        started = time.perf_counter()
        for n, letter in enumerate(letters):
            # Paced from the start, so a slow request does not lower the rate that follows.
            await asyncio.sleep(max(0.0, started + n * pause_s - time.perf_counter()))
            self.put_at[letter[1]["external_id"]] = time.perf_counter()
            await put_letters(client, simulator=self.urls.simulator, letters=[letter])
        put_s = time.perf_counter() - started
        ids = {payload["external_id"] for _, payload in letters}
        traces = await self._wait(ids, phase="latency")
        return {
            "rate_per_s": self.options.rate_per_s,
            "letters": len(letters),
            "published": len(traces),
            "failed": len(self.failed & ids),
            "put_rate_achieved_per_s": round(len(letters) / put_s, 1) if put_s else None,
            "stages": stage_figures(traces),
            "put_to_published": self._end_to_end(traces),
        }

    async def _throughput_phase(self, client: httpx.AsyncClient) -> Figures:
        letters = self.letters.make("tp", self.options.letters)
        ids = {payload["external_id"] for _, payload in letters}
        started = time.perf_counter()
        for external_id in ids:
            self.put_at[external_id] = started
        await put_letters(client, simulator=self.urls.simulator, letters=letters)
        traces = await self._wait(ids, phase="throughput")
        last = max((t.published_seen_s or started for t in traces), default=started)
        seconds = last - started
        intents = [self.letters.intents[i] for i in ids]
        return {
            "letters": len(letters),
            "published": len(traces),
            "failed": len(self.failed & ids),
            "not_accepted": sum(not i.accept for i in intents),
            "not_public": sum(i.accept and i.mode is PublicationMode.not_public for i in intents),
            "seconds": round(seconds, 2),
            "letters_per_s": round(len(traces) / seconds, 1) if seconds > 0 else None,
            "stages": stage_figures(traces),
            "put_to_published": self._end_to_end(traces),
        }

    async def _wait(self, ids: set[str], *, phase: str) -> list[Trace]:
        say = self.options.progress
        if say is None:
            return await self._published(ids)

        async def tell() -> None:
            started = time.monotonic()
            while True:
                await asyncio.sleep(10)
                done = len(self.log.published(ids))
                say(
                    f"{phase}: {done}/{len(ids)} published after {time.monotonic() - started:.0f} s"
                    f" ({len(self.errors)} errors)"
                )

        teller = asyncio.create_task(tell())
        try:
            return await self._published(ids)
        finally:
            teller.cancel()

    async def _published(self, ids: set[str]) -> list[Trace]:
        traces = await self.log.wait_published(
            ids, failed=self.failed, timeout_s=self.options.timeout_s
        )
        await self.log.wait_stages(traces, timeout_s=STAGE_EVENTS_WAIT_S)
        return traces

    def _end_to_end(self, traces: list[Trace]) -> dict[str, Any]:
        spans = sorted(
            ((t.published_seen_s or 0.0) - self.put_at[t.external_id]) * 1000 for t in traces
        )
        return percentiles(spans)


async def run_pipeline(options: PipelineOptions) -> Figures:
    """Wipe, start, play both phases, read memory, stop, wipe; then the baselines."""
    names = ("intake", "routing", "deadlines", "publishing", "simulator")
    deployment = LocalDeployment(
        namespace=f"bench_{new_id('p').lower()}", ports=free_ports(names), extra_env=BENCH_ENV
    )
    if options.log_dir is not None:
        deployment.log_dir = options.log_dir
    counts_dir = Path(tempfile.mkdtemp(prefix="mailbox-bench-commands-"))
    deployment.extra_env = {**deployment.extra_env, "MAILBOX_COMMAND_COUNTS_DIR": str(counts_dir)}
    run = Run(options, deployment)
    load_before = os.getloadavg()[0]
    env = deployment.env()
    await wipe_namespace(deployment)
    try:
        await run.log.start()
        await deployment.start()
        pids = {name: p.proc.pid if p.proc else None for name, p in deployment.processes.items()}
        run.meter = CpuMeter({**pids, "database": database_server_pid(env["MAILBOX_MONGO_URL"])})
        limits = httpx.Limits(
            max_connections=2 * options.concurrency, max_keepalive_connections=options.concurrency
        )
        async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
            figures = await run.play(client)
        figures["peak_memory_mib"] = peak_memory_mib(deployment)
    finally:
        await run.log.close()
        await deployment.stop_all()
        await wipe_namespace(deployment)
    published = figures["throughput"]["published"] + figures["latency"]["published"]
    figures["cpu_s_per_letter"] = run.meter.per_letter(published)
    # The counts cover the services' whole lives: the seed letters of a growth run too.
    seeded = run.growth["seed_letters_published"] if run.growth else 0
    figures["db_commands_per_letter"] = commands_per_letter(counts_dir, letters=published + seeded)
    if run.growth is not None:
        figures["growth"] = run.growth
    shutil.rmtree(counts_dir, ignore_errors=True)
    baseline = {
        "broker": await broker_round_trips(env["MAILBOX_AMQP_URL"], messages=options.baseline_n),
        "database": await database_round_trips(
            env["MAILBOX_MONGO_URL"], documents=options.baseline_n
        ),
    }
    return _summary(
        options, figures=figures, baseline=baseline, load=(load_before, os.getloadavg()[0])
    )


def _summary(
    options: PipelineOptions,
    *,
    figures: Figures,
    baseline: Figures,
    load: tuple[float, float],
) -> Figures:
    throughput, latency = figures["throughput"], figures["latency"]
    rate = throughput.get("letters_per_s") or 0.0
    letters_done = throughput["published"] + latency["published"]
    events_per_letter = figures["events_seen"] / max(1, letters_done)
    broker_rate = baseline["broker"]["messages_per_s"]
    database_rate = baseline["database"]["insert_and_update_per_s"]
    p99s = {name: latency["stages"][name].get("p99_ms") for name in TARGET_STAGES}
    return {
        "machine": {
            "cores": os.cpu_count(),
            "load_avg_1m_before": round(load[0], 2),
            "load_avg_1m_after": round(load[1], 2),
        },
        "options": {
            "letters": options.letters,
            "rate_per_s": options.rate_per_s,
            "latency_letters": options.latency_letters,
            "concurrency": options.concurrency,
            "not_accepted_share": options.not_accepted_share,
            "not_public_share": options.not_public_share,
            "stored": options.stored,
        },
        **figures,
        "events_per_letter": round(events_per_letter, 1),
        "baseline": baseline,
        "ratios": {
            "letters_per_s_to_broker_messages_per_s": _ratio(rate, broker_rate),
            "events_per_s_to_broker_messages_per_s": _ratio(rate * events_per_letter, broker_rate),
            "letters_per_s_to_db_insert_and_update_per_s": _ratio(rate, database_rate),
        },
        "targets": {
            "letters_per_s": TARGET_LETTERS_PER_S,
            "letters_per_s_met": rate >= TARGET_LETTERS_PER_S,
            "p99_ms_per_stage_at_rate": TARGET_P99_MS,
            "p99_met": all(v is not None and v < TARGET_P99_MS for v in p99s.values()),
        },
    }


def _ratio(value: float, base: float) -> float | None:
    return round(value / base, 4) if base else None
