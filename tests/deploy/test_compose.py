"""docker-compose.yml describes a deployment that scales: one image, health-gated start-up.

The structure is read with PyYAML (merge keys resolved as compose does); where a compose
client exists, `config` validates the file against compose's own schema too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
APP_SERVICES = {"intake": 8001, "routing": 8002, "deadlines": 8003, "publishing": 8004}
SERVERS = ("mongo", "rabbitmq", "redis")
SECRETS = {
    "MAILBOX_TOKEN_SECRET": "0123456789abcdef0123456789abcdef",
    "MAILBOX_MONGO_PASSWORD": "mongo-test-password",
    "MAILBOX_AMQP_PASSWORD": "amqp-test-password",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


def _compose_client() -> list[str] | None:
    """The compose command line this machine has: the Docker plugin or docker-compose."""
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False, timeout=30
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def _run_config(client: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*client, "-f", str(COMPOSE_FILE), "--profile", "demo", "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=REPO_ROOT,
        env=env,
    )


def test_the_four_services_run_from_one_image_with_their_own_command(
    services: dict[str, dict[str, Any]],
) -> None:
    images = {services[name]["image"] for name in APP_SERVICES}
    builds = {str(services[name]["build"]) for name in APP_SERVICES}
    assert len(images) == 1
    assert len(builds) == 1
    for name, port in APP_SERVICES.items():
        command = services[name]["command"]
        assert command[:3] == ["uvicorn", f"services.{name}.app:create_app", "--factory"]
        assert command[command.index("--port") + 1] == str(port)
        assert command[command.index("--host") + 1] == "0.0.0.0"


def test_every_container_has_a_health_check_and_a_restart_policy(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert service["restart"] in {"always", "unless-stopped", "on-failure"}, name
    for name, port in APP_SERVICES.items():
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/healthz" in probe


def test_services_start_only_when_their_servers_are_healthy(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert set(depends_on) == set(SERVERS), name
        assert {dep["condition"] for dep in depends_on.values()} == {"service_healthy"}


def test_scaled_services_hold_no_state_and_no_fixed_host_port(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in APP_SERVICES:
        service = services[name]
        assert "volumes" not in service, name
        assert "container_name" not in service, name
        for mapping in service.get("ports", []):
            # "CONTAINER" or "IP::CONTAINER": the host picks a free port per replica.
            parts = str(mapping).split(":")
            assert len(parts) == 1 or (len(parts) == 3 and parts[1] == ""), (name, mapping)


def test_each_service_owns_its_database_and_shares_the_production_settings(
    services: dict[str, dict[str, Any]],
) -> None:
    databases = set()
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["MAILBOX_ENVIRONMENT"] == "production"
        assert env["MAILBOX_TOKEN_SECRET"].startswith("${MAILBOX_TOKEN_SECRET:?")
        assert "guest:guest@" not in env["MAILBOX_AMQP_URL"]
        for key in ("MAILBOX_MONGO_URL", "MAILBOX_REDIS_URL"):
            assert key in env
        databases.add(env[f"MAILBOX_{name.upper()}_MONGO_DB"])
    assert len(databases) == len(APP_SERVICES)


def test_the_simulator_runs_only_in_the_demo_profile(
    services: dict[str, dict[str, Any]],
) -> None:
    simulator = services["simulator"]
    assert simulator["profiles"] == ["demo"]
    assert simulator["command"][:2] == ["mailbox", "simulator"]
    assert simulator["image"] == services["intake"]["image"]
    for name in (*APP_SERVICES, *SERVERS):
        assert "profiles" not in services[name], name


def test_the_image_runs_as_an_unprivileged_user_without_dev_tools() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users
    assert users[-1] not in {"root", "0"}
    assert "uv sync --frozen --no-dev" in dockerfile


def test_compose_accepts_the_file_and_refuses_a_missing_secret() -> None:
    client = _compose_client()
    if client is None:
        pytest.skip("no compose client here: neither `docker compose` nor docker-compose")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOX_")}
    accepted = _run_config(client, {**base_env, **SECRETS})
    assert accepted.returncode == 0, accepted.stderr
    without_secret = {k: v for k, v in SECRETS.items() if k != "MAILBOX_TOKEN_SECRET"}
    refused = _run_config(client, {**base_env, **without_secret})
    assert refused.returncode != 0
    assert "set a real secret" in refused.stderr
