"""`mailbox directory import` and `export` against the routing service served over HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import typer
from typer.testing import CliRunner

from services.routing import cli as routing_cli
from services.routing.app import create_app
from services.routing.directory.models import SAMPLE_DIRECTORY_PATH
from shared.auth import Role
from shared.clock import FixedClock
from tests.routing.admin_harness import routing_settings, serving
from tests.routing.harness import NOW
from tests.support import delete_exchange_and_queues, drop_database, running, token


def _root() -> typer.Typer:
    root = typer.Typer()
    routing_cli.register(root)
    return root


async def test_a_file_is_checked_here_and_loaded_there(tmp_path: Path) -> None:
    data = orjson.loads(SAMPLE_DIRECTORY_PATH.read_bytes())
    data["recipients"].append(
        {
            "id": "city-tobacco",
            "name": "重庆市烟草专卖局",
            "kind": "municipal_department",
            "topics": ["烟草专卖管理"],
        }
    )
    good = tmp_path / "directory.json"
    good.write_bytes(orjson.dumps(data))
    data["units"][0]["kind"] = "ministry"
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps(data))
    settings = routing_settings()
    app = create_app(settings, clock=FixedClock(NOW))
    runner, root = CliRunner(), _root()
    try:
        async with running(app), serving(app) as url:
            admin = {"MAILBOX_TOKEN": token(Role.admin), "MAILBOX_ROUTING_URL": url}
            result = await asyncio.to_thread(
                runner.invoke, root, ["directory", "import", str(good)], env=admin
            )
            assert result.exit_code == 0, result.output
            report = orjson.loads(result.stdout)
            assert report["recipients"]["created"] == 1
            assert report["units"]["unchanged"] == len(data["units"])
            refused = await asyncio.to_thread(
                runner.invoke, root, ["directory", "import", str(bad)], env=admin
            )
            assert refused.exit_code == 2
            assert "units.0.kind" in refused.output
            clerk = {**admin, "MAILBOX_TOKEN": token(Role.office_clerk)}
            forbidden = await asyncio.to_thread(
                runner.invoke, root, ["directory", "import", str(good)], env=clerk
            )
            assert forbidden.exit_code == 1
            assert "403" in forbidden.output
            exported = await asyncio.to_thread(
                runner.invoke, root, ["directory", "export"], env=clerk
            )
            assert exported.exit_code == 0, exported.output
            directory = orjson.loads(exported.stdout)
            assert "city-tobacco" in [r["id"] for r in directory["recipients"]]
    finally:
        await delete_exchange_and_queues(settings.exchange_name)
        await drop_database(settings.mongo_db)
