"""No scan on a letter's hot path: every command the services send for a letter's life filters
on `_id` (or a unique key), but for the exceptions listed here, each with why.

FerretDB uses no secondary index: a filter on anything but `_id` reads the whole collection,
so its cost grows with the letters stored. The services run as processes on the local stack
(`mailbox bench pipeline`, two letters worked to publication by the scripted office and
units), each counting its commands by collection, command and filter keys
(`shared/command_counts.py`); the test fails on any filter not listed below.
"""

from __future__ import annotations

import fnmatch

import pytest

from devkit.bench.pipeline import PipelineOptions, pipeline_figures

pytestmark = pytest.mark.timeout(600)

# Filters on a unique key (MongoDB answers them from the unique index).
UNIQUE_KEYS = {
    "intake:letters find [external_id,platform]",
    "publishing:archives find [archive_id]",
}

SWEEP = "the outbox sweep: crash recovery, once per interval, not per letter"
PENDING_ROUTING = "pending routing split (routing's letters are being reworked elsewhere)"
PENDING_RELAY = (
    "the archiver reads a letter's trail by letter_id, once per letter when it is archived;"
    " pending the relay keeping the trail under the letter's id (shared/outbox, elsewhere)"
)

# `service:collection command [filter keys]` patterns (fnmatch) that are not scans per letter,
# or are accepted for now, each with why. Periodic work runs a fixed number of commands per
# interval whatever the traffic, but on FerretDB each of them still scans its collection.
EXCEPTIONS: dict[str, str] = {
    "*:* find [has_outbox]": SWEEP,
    "*:* find [has_outbox,updated_at]": SWEEP,
    "*:* createIndexes [-]": "start-up: the indexes each collection declares",
    "*:revoked_tokens find [-]": "the revocation cache's reload every 2 s (unexpired tokens)",
    "deadlines:clocks find [awaiting_decision,closed_at,due,state]": "deadlines' sweep (timers'"
    " safety net, every sweep interval): clocks past due",
    "deadlines:clocks find [due_soon_at,due_soon_sent,state]": "deadlines' sweep: due soon",
    "deadlines:clocks find [follow_up]": "deadlines' sweep: reminders and deductions owed",
    "deadlines:clocks find [calendar_version,closed_at,state]": "deadlines' sweep: clocks"
    " counted on an older calendar",
    "deadlines:clocks find [state]": "start-up: re-arming the running clocks' timers",
    "intake:instances find [seen_at]": "intake's instance heartbeat, every few seconds",
    "intake:leases update [owner]": "intake's platform lease, renewed every few seconds",
    "publishing:upload_queue find [next_attempt_at]": "the uploader's due-query, once per"
    " pass: `upload_queue` holds only the pending uploads, one small document each",
    "publishing:uploads find [state]": "the uploader queues every pending upload again from"
    " one scan at start and every 10 minutes (the queue's safety net)",
    "publishing:archive_queue find [$or]": "the archiver's pass: `archive_queue` holds only"
    " the letters not archived yet, one small document each",
    "publishing:audit find [letter_id]": PENDING_RELAY,
    "routing:webhook_deliveries find [next_attempt_at,state]": "routing's webhook sender's"
    " due-query, every second",
    "routing:letters find [has_notices]": "routing's notice relay sweep, per interval",
    "routing:units find [-]": "start-up: the directory loaded once",
    "routing:recipients find [-]": "start-up: the directory loaded once",
    "routing:units update [version]": "start-up: the directory's seed written once",
    "routing:recipients update [version]": "start-up: the directory's seed written once",
    "routing:letters find [-]": PENDING_ROUTING,
    "routing:desk find [-]": "the 待办 index's reconcile, at start-up and hourly"
    " (`Desk.reconcile`): its entries, against the letters",
    "routing:audit find [letter_id]": PENDING_ROUTING + "; the dossier's trail for the archiver",
    "routing:repeat_candidates find [received_at]": PENDING_ROUTING + "; repeat detection's"
    " window of recent letters",
}


def _allowed(service: str, key: str) -> bool:
    named = f"{service}:{key}"
    if named in UNIQUE_KEYS:
        return True
    # `[` opens a character class in fnmatch: matched literally here.
    return any(fnmatch.fnmatchcase(named, p.replace("[", "[[]")) for p in EXCEPTIONS)


def test_a_letters_life_reads_and_writes_by_id_only() -> None:
    figures = pipeline_figures(
        PipelineOptions(
            letters=1,
            latency_letters=1,
            rate_per_s=1.0,
            baseline_n=10,
            timeout_s=240.0,
            concurrency=2,
        )
    )
    assert "error" not in figures, figures
    assert figures["throughput"]["published"] == 1
    assert figures["latency"]["published"] == 1
    commands = figures["db_commands_per_letter"]
    assert set(commands) >= {"intake", "routing", "deadlines", "publishing"}
    scans = {
        (service, key): per_letter
        for service, counted in commands.items()
        for key, per_letter in counted["not_by_id"].items()
        if not _allowed(service, key)
    }
    assert scans == {}, "\n".join(f"{s}: {k} ({n}/letter)" for (s, k), n in sorted(scans.items()))
