"""The committed event catalogue is the one the code generates."""

from __future__ import annotations

import orjson
import pytest

from shared.events.asyncapi import build_asyncapi
from shared.events.catalog import EVENT_TYPES
from shared.events.cli import DOC_PATH, render

pytestmark = pytest.mark.unit  # needs no server


def test_the_committed_document_matches_the_code() -> None:
    assert DOC_PATH.read_bytes() == render(), (
        "docs/events.asyncapi.json is stale: run `mailbox schemas asyncapi --write`"
    )


def test_every_event_type_has_a_channel_with_its_data_schema() -> None:
    document = build_asyncapi()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(EVENT_TYPES)
    schemas = document["components"]["schemas"]
    for model in EVENT_TYPES.values():
        assert set(model.model_fields) == set(schemas[model.__name__]["properties"])
    orjson.dumps(document)
