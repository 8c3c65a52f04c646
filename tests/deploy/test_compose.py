"""docker-compose.yml describes a deployment that scales: one image, health-gated start-up.

The structure is read with PyYAML (merge keys resolved as compose does); where a compose
client exists, `config` validates the file against compose's own schema too.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from services.intake.settings import IntakeSettings
from services.intake.wiring import platform_configs as intake_platforms
from services.publishing.settings import PublishingSettings
from services.publishing.wiring import platform_configs as publishing_platforms
from shared.platforms.config import default_platform_configs, load_platform_configs

pytestmark = pytest.mark.unit  # needs no server

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
APP_SERVICES = {"intake": 8001, "routing": 8002, "deadlines": 8003, "publishing": 8004}
SERVERS = ("mongo", "rabbitmq", "redis")
SECRETS = {
    "MAILBOX_TOKEN_SECRET": secrets.token_hex(32),  # production refuses committed ones
    "MAILBOX_MONGO_PASSWORD": "mongo-test-password",
    "MAILBOX_AMQP_PASSWORD": "amqp-test-password",
}
REAL_PLATFORM = "https://box.example.invalid/api"
EXAMPLE_PLATFORMS = REPO_ROOT / "deploy" / "platforms.example.json"
PLATFORM_SERVICES = ("intake", "publishing")
SECRET_PATH = "/run/secrets/platforms"


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


def _run_config(
    client: list[str], env: dict[str, str], *, demo: bool = True, quiet: bool = True
) -> subprocess.CompletedProcess[str]:
    profile = ["--profile", "demo"] if demo else []
    return subprocess.run(
        [*client, "-f", str(COMPOSE_FILE), *profile, "config", *(["--quiet"] if quiet else [])],
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


def test_the_console_runs_from_the_same_image_without_secrets_or_databases(
    services: dict[str, dict[str, Any]],
) -> None:
    console = services["console"]
    assert console["image"] == services["routing"]["image"]
    assert str(console["build"]) == str(services["routing"]["build"])
    command = console["command"]
    assert command[:3] == ["uvicorn", "services.console.app:create_app", "--factory"]
    assert command[command.index("--port") + 1] == "8005"
    assert "http://127.0.0.1:8005/healthz" in " ".join(console["healthcheck"]["test"])
    # Sessions in Redis; the services' APIs once routing answers (it signs people in).
    assert set(console["depends_on"]) == {"redis", "routing"}
    assert {d["condition"] for d in console["depends_on"].values()} == {"service_healthy"}
    env = console["environment"]
    assert env["MAILBOX_ENVIRONMENT"] == "production"  # Secure cookies
    assert "MAILBOX_REDIS_URL" in env
    for name in APP_SERVICES:
        assert env[f"MAILBOX_{name.upper()}_URL"].startswith(f"http://{name}:")
    # It signs no token and reads no database: none of their secrets reach it.
    for key in ("MAILBOX_TOKEN_SECRET", "MAILBOX_MONGO_URL", "MAILBOX_AMQP_URL"):
        assert key not in env, key
    assert "volumes" not in console and "profiles" not in console
    assert console["ports"] == ["127.0.0.1::8005"]


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
    for name in (*APP_SERVICES, *SERVERS):
        assert "profiles" not in services[name], name


def test_no_service_is_given_a_simulator_url_by_the_file_itself(
    services: dict[str, dict[str, Any]],
) -> None:
    # The demo's command sets MAILBOX_SIMULATOR_URL in the shell; the file only passes it on.
    for name in (*APP_SERVICES, "simulator"):
        env = services[name]["environment"]
        assert env.get("MAILBOX_SIMULATOR_URL") is None, name
        assert f"MAILBOX_{name.upper()}_SIMULATOR_URL" not in env, name


def _render(client: list[str], env: dict[str, str], *, demo: bool) -> dict[str, Any]:
    """The whole file as compose resolves it."""
    rendered = _run_config(client, env, demo=demo, quiet=False)
    assert rendered.returncode == 0, rendered.stderr
    loaded = yaml.safe_load(rendered.stdout)
    assert isinstance(loaded, dict)
    return loaded


def _rendered_env(
    client: list[str], env: dict[str, str], *, demo: bool
) -> dict[str, dict[str, str]]:
    """Each app service's environment as compose resolves it, unset variables left out."""
    loaded = _render(client, env, demo=demo)
    return {
        name: {
            k: str(v) for k, v in loaded["services"][name]["environment"].items() if v is not None
        }
        for name in APP_SERVICES
    }


def _platform_urls(
    service: str, env: dict[str, str], platforms_file: Path, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The platform URLs intake or publishing would use in a container with `env`."""
    with monkeypatch.context() as patched:
        for key in [k for k in os.environ if k.startswith("MAILBOX_")]:
            patched.delenv(key)
        for key, value in env.items():
            patched.setenv(key, value)
        patched.setenv(f"MAILBOX_{service.upper()}_PLATFORMS_FILE", str(platforms_file))
        if service == "intake":
            return [c.base_url for c in intake_platforms(IntakeSettings())]
        return [c.base_url for c in publishing_platforms(PublishingSettings())]


def test_only_the_demo_points_intake_and_publishing_at_the_simulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _compose_client()
    if client is None:
        pytest.skip("no compose client here: neither `docker compose` nor docker-compose")
    platforms_file = tmp_path / "platforms.json"
    platforms_file.write_bytes(
        orjson.dumps(
            [{"id": "district_box", "name": "某区信箱", "base_url": REAL_PLATFORM, "token": "t"}]
        )
    )
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOX_")}

    production = _rendered_env(client, {**base_env, **SECRETS}, demo=False)
    for name, env in production.items():
        assert not any("SIMULATOR" in key for key in env), (name, env)
    for name in ("intake", "publishing"):
        urls = _platform_urls(name, production[name], platforms_file, monkeypatch)
        assert urls == [REAL_PLATFORM], name

    demo_env = {**base_env, **SECRETS, "MAILBOX_SIMULATOR_URL": "http://simulator:8900"}
    demo = _rendered_env(client, demo_env, demo=True)
    for name in ("intake", "publishing"):
        urls = _platform_urls(name, demo[name], platforms_file, monkeypatch)
        assert urls == ["http://simulator:8900/p/district_box"], name


def test_the_product_image_leaves_the_development_kit_out(
    services: dict[str, dict[str, Any]],
) -> None:
    # The product services build the `product` target (the wheel's packages, installed
    # from uv.lock without dev tools); only the demo's simulator builds `devkit` on top.
    for name in APP_SERVICES:
        assert services[name]["build"]["target"] == "product", name
    assert services["simulator"]["build"]["target"] == "devkit"
    assert services["simulator"]["image"] != services["intake"]["image"]


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


def test_the_example_platforms_file_loads_with_the_real_loader() -> None:
    configs = load_platform_configs(EXAMPLE_PLATFORMS)
    defaults = default_platform_configs()
    # The three platforms of Art. 2, with the field names they speak.
    assert [(c.id, c.name) for c in configs] == [(d.id, d.name) for d in defaults]
    assert [c.field_mapping for c in configs] == [d.field_mapping for d in defaults]
    for config in configs:
        # Placeholders an operator cannot mistake for a real address: .invalid never resolves.
        assert config.base_url.startswith("https://"), config.base_url
        assert ".placeholder.invalid/" in config.base_url, config.base_url
        assert config.token.get_secret_value().startswith("dev-only-"), config.id
    assert "placeholder" in orjson.loads(EXAMPLE_PLATFORMS.read_bytes())["_placeholders"]


def _settings_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("MAILBOX_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def test_the_demo_simulator_accepts_the_example_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # The simulator (no --config) serves the default platforms with their dev tokens; with
    # MAILBOX_SIMULATOR_URL set, the file's addresses give way and its tokens must match.
    simulator = "http://simulator:8900"
    _settings_env(
        {"MAILBOX_PLATFORMS_FILE": str(EXAMPLE_PLATFORMS), "MAILBOX_SIMULATOR_URL": simulator},
        monkeypatch,
    )
    served = [
        (c.id, c.base_url, c.token.get_secret_value(), c.field_mapping)
        for c in default_platform_configs(simulator_url=simulator)
    ]
    for configs in (intake_platforms(IntakeSettings()), publishing_platforms(PublishingSettings())):
        used = [(c.id, c.base_url, c.token.get_secret_value(), c.field_mapping) for c in configs]
        assert used == served


def _secret_sources(service: dict[str, Any]) -> list[str]:
    # docker-compose 1.x renders {"source": name}; the plugin may render plain names too.
    return [s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])]


def test_only_intake_and_publishing_get_the_platforms_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _compose_client()
    if client is None:
        pytest.skip("no compose client here: neither `docker compose` nor docker-compose")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOX_")}
    own_file = tmp_path / "platforms.json"
    own_file.write_bytes(
        orjson.dumps(
            [{"id": "district_box", "name": "某区信箱", "base_url": REAL_PLATFORM, "token": "t"}]
        )
    )
    cases = [
        ({**base_env, **SECRETS}, False, EXAMPLE_PLATFORMS),
        ({**base_env, **SECRETS, "MAILBOX_PLATFORMS_FILE_ON_HOST": str(own_file)}, False, own_file),
        ({**base_env, **SECRETS, "MAILBOX_SIMULATOR_URL": "http://simulator:8900"}, True, None),
    ]
    for env, demo, host_file in cases:
        loaded = _render(client, env, demo=demo)
        secret_file = Path(loaded["secrets"]["platforms"]["file"])
        if host_file is not None:
            assert secret_file == host_file
        for name, service in loaded["services"].items():
            service_env = service.get("environment") or {}
            # The `ha` profile's replicas (intake-ha, …) as the services they run.
            if name.removesuffix("-ha") in PLATFORM_SERVICES:
                assert _secret_sources(service) == ["platforms"], name
                assert service_env["MAILBOX_PLATFORMS_FILE"] == SECRET_PATH, name
            else:
                assert "secrets" not in service, name
                assert not any("PLATFORMS_FILE" in key for key in service_env), name
        # What the two would reach in their containers, the secret read where compose mounts it.
        for name in PLATFORM_SERVICES:
            service_env = {
                k: str(v)
                for k, v in loaded["services"][name]["environment"].items()
                if v is not None
            }
            service_env["MAILBOX_PLATFORMS_FILE"] = str(secret_file)
            with monkeypatch.context() as patched:
                _settings_env(service_env, patched)
                if name == "intake":
                    urls = [c.base_url for c in intake_platforms(IntakeSettings())]
                else:
                    urls = [c.base_url for c in publishing_platforms(PublishingSettings())]
            expected = [c.base_url for c in load_platform_configs(secret_file)]
            if demo:
                expected = [
                    c.base_url
                    for c in default_platform_configs(simulator_url="http://simulator:8900")
                ]
            assert urls == expected, (name, demo)


HA_SERVERS = {"mongo": ("m1", "m2", "m3"), "rabbitmq": ("rabbitmq1", "rabbitmq2", "rabbitmq3")}
HA_SECRETS = {
    "MAILBOX_MONGO_KEYFILE": secrets.token_urlsafe(96),
    "MAILBOX_ERLANG_COOKIE": secrets.token_hex(32),
}
RABBITMQ_CLUSTER_CONF = REPO_ROOT / "deploy" / "ha" / "rabbitmq-cluster.conf"


def _render_profile(client: list[str], env: dict[str, str], profile: str) -> dict[str, Any]:
    """The file as compose resolves it with one profile on (validated by compose itself)."""
    done = subprocess.run(
        [*client, "-f", str(COMPOSE_FILE), "--profile", profile, "config"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=REPO_ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    loaded = yaml.safe_load(done.stdout)
    assert isinstance(loaded, dict)
    return loaded


def test_the_broker_is_rabbitmq_4(services: dict[str, dict[str, Any]]) -> None:
    assert str(services["rabbitmq"]["image"]).startswith("rabbitmq:4")


def test_the_ha_profile_validates_and_goes_beyond_one_machine() -> None:
    client = _compose_client()
    if client is None:
        pytest.skip("no compose client here: neither `docker compose` nor docker-compose")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOX_")}
    loaded = _render_profile(client, {**base_env, **SECRETS, **HA_SECRETS}, "ha")
    found = loaded["services"]

    # A three-member replica set, initiated by m1's health check, members sharing one key.
    members = HA_SERVERS["mongo"]
    for name in members:
        member = found[name]
        assert member["profiles"] == ["ha"], name
        assert str(member["image"]).startswith("mongo:"), name
        start = " ".join(member["entrypoint"])
        assert "--replSet rs0" in start and "--keyFile" in start, name
        assert member["environment"]["MONGO_KEYFILE_CONTENT"] == HA_SECRETS["MAILBOX_MONGO_KEYFILE"]
    initiate = " ".join(found["m1"]["healthcheck"]["test"])
    assert "rs.initiate({_id: 'rs0'" in initiate
    for name in members:
        assert f"host: '{name}:27017'" in initiate, name

    # Three RabbitMQ 4 nodes with one cookie, clustered by the mounted formation config and
    # reached by the name they share.
    nodes = HA_SERVERS["rabbitmq"]
    conf = RABBITMQ_CLUSTER_CONF.read_text(encoding="utf-8")
    assert "cluster_formation.peer_discovery_backend = classic_config" in conf
    for name in nodes:
        node = found[name]
        assert str(node["image"]).startswith("rabbitmq:4"), name
        assert node["environment"]["ERLANG_COOKIE"] == HA_SECRETS["MAILBOX_ERLANG_COOKIE"]
        assert "/var/lib/rabbitmq/.erlang.cookie" in " ".join(node["entrypoint"])
        assert f"rabbit@{node['hostname']}" in conf, name
        mounts = [str(v) for v in node["volumes"]]
        assert any(str(RABBITMQ_CLUSTER_CONF) in m and "/etc/rabbitmq/conf.d/" in m for m in mounts)
        assert "rabbitmq-cluster" in node["networks"]["default"]["aliases"], name

    # Two or more replicas of each service, on the replica set (majority writes) and the
    # cluster, started once all of it is healthy.
    for name in APP_SERVICES:
        service = found[f"{name}-ha"]
        assert service["profiles"] == ["ha"], name
        assert service["deploy"]["replicas"] >= 2, name
        assert service["command"] == found[name]["command"], name
        env = service["environment"]
        mongo_url = env["MAILBOX_MONGO_URL"]
        assert "@m1:27017,m2:27017,m3:27017/" in mongo_url, mongo_url
        assert "replicaSet=rs0" in mongo_url and "w=majority" in mongo_url, mongo_url
        assert "@rabbitmq-cluster:5672/" in env["MAILBOX_AMQP_URL"]
        for other in APP_SERVICES:
            assert env[f"MAILBOX_{other.upper()}_URL"].startswith(f"http://{other}-ha:"), name
        assert set(service["depends_on"]) == {*members, *nodes, "redis"}, name
        assert {d["condition"] for d in service["depends_on"].values()} == {"service_healthy"}


def test_the_single_machine_deployment_needs_none_of_the_ha_secrets() -> None:
    client = _compose_client()
    if client is None:
        pytest.skip("no compose client here: neither `docker compose` nor docker-compose")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOX_")}
    accepted = _run_config(client, {**base_env, **SECRETS}, demo=False)
    assert accepted.returncode == 0, accepted.stderr
    # Without its key and cookie the ha profile still renders, but its members refuse to
    # start: the entrypoints test for them.
    loaded = _render_profile(client, {**base_env, **SECRETS}, "ha")
    for name in (*HA_SERVERS["mongo"], *HA_SERVERS["rabbitmq"]):
        assert loaded["services"][name]["entrypoint"][2].startswith("test -n "), name
