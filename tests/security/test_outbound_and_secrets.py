"""What the services send out and what they trust: webhook targets, minted tokens, secrets.

- A webhook may not point at the loopback, link-local (cloud metadata), private or reserved
  addresses, checked after DNS resolution at registration (422 naming `url`) and again at
  delivery (the attempt fails without connecting), unless the operator allows the host.
- A token signed with the secret directly (the operator's bootstrap) is revocable by its id.
- Production refuses every token secret written anywhere in the repository.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from services.routing.notify.targets import Target, TargetGuard, TargetRefused, refusal
from services.routing.notify.webhooks import WebhookStore
from shared.auth import Role, TokenCodec
from shared.clock import SystemClock
from shared.mongo import make_client
from shared.settings import KNOWN_SECRETS, ServiceSettings
from tests.routing.admin_harness import (
    admin,
    admin_stack,
    as_unit,
    routing_settings,
    wait_until,
    webhook_receiver,
)
from tests.routing.harness import LEAD, OTHER, Desk, Stack
from tests.support import MONGO_URL, TEST_SECRET

REPO = Path(__file__).resolve().parents[2]
SECRET = "unit-webhook-secret-0123456789"
INTERNAL_URLS = (
    "http://127.0.0.1:8003/admin/clock",
    "http://localhost:8003/admin/clock",  # a name: refused for what it resolves to
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[::1]:8002/admin/users",
    "http://[::ffff:127.0.0.1]:8002/admin/users",  # IPv4-mapped loopback
    "http://[fd00:ec2::254]/latest/meta-data/",  # a cloud's IPv6 metadata address
    "http://100.100.100.200/latest/meta-data/",  # shared address space: another cloud's
    "http://10.20.30.40/hook",
    "http://192.168.1.1/hook",
    "http://0.0.0.0:8002/admin/users",
    "http://2130706433:8003/admin/clock",  # 127.0.0.1 written as one number
)


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    # No operator allow-list: the production default.
    async with admin_stack(routing_settings(webhook_max_attempts=1)) as running_stack:
        yield running_stack


async def test_a_webhook_to_an_internal_address_is_refused_when_registered(stack: Stack) -> None:
    for url in INTERNAL_URLS:
        response = await stack.client.put(
            f"/units/{OTHER}/webhook",
            json={"url": url, "secret": SECRET},
            headers=as_unit(Role.unit_head, OTHER),
        )
        assert response.status_code == 422, (url, response.text)
        error = response.json()["details"]["errors"][0]
        assert error["field"] == "url", url
        assert "address" in error["reason"], (url, error)
    assert (await stack.client.get(f"/units/{OTHER}/webhook", headers=admin())).status_code == 404
    # Nor may the admin, who reads no letter, aim a unit's notices anywhere (they quote titles).
    aimed = await stack.client.put(
        f"/units/{OTHER}/webhook",
        json={"url": "https://93.184.215.14/hooks/mailbox", "secret": SECRET},
        headers=admin(),
    )
    assert aimed.status_code == 403, aimed.text
    public = await stack.client.put(
        f"/units/{OTHER}/webhook",
        json={"url": "https://93.184.215.14/hooks/mailbox", "secret": SECRET},
        headers=as_unit(Role.unit_head, OTHER),
    )
    assert public.status_code == 200, public.text


async def test_a_delivery_to_an_internal_address_fails_without_connecting(stack: Stack) -> None:
    async with webhook_receiver() as receiver:
        # Stored as if it had passed the check (an allow-list since removed, or a name that
        # resolved elsewhere then): the dispatcher checks again before it connects.
        url = receiver.url.replace("127.0.0.1", "localhost")
        mongo = make_client(MONGO_URL)
        try:
            webhooks = WebhookStore(mongo[stack.settings.mongo_db]["webhooks"])
            now = SystemClock().now()
            await webhooks.put(
                LEAD, url=url, secret=SECRET, events=[], by="test", at=now, version=None
            )
        finally:
            await mongo.close()
        desk = Desk(stack)
        letter_id = await desk.register()
        await desk.accept_direct(letter_id)

        async def failed() -> dict[str, Any] | None:
            response = await stack.client.get(
                f"/units/{LEAD}/webhook/deliveries", params={"state": "failed"}, headers=admin()
            )
            items = [d for d in response.json()["items"] if d["letter_id"] == letter_id]
            return items[0] if items else None

        delivery = await wait_until(failed, what="the refused delivery")
        assert receiver.hits == []
    error = delivery["history"][0]["error"]
    assert error.startswith("refused target: localhost resolves to 127.0.0.1"), error
    assert delivery["history"][0]["status"] is None


@pytest.mark.unit
async def test_an_operator_allowed_host_is_reached_at_the_checked_address() -> None:
    guard = TargetGuard(allowed_hosts=["LOCALHOST", "[::1]"])
    target = await guard.check("https://localhost:8443/hook?x=1")
    url, host, extensions = target.pinned()
    assert (url.host, url.port, url.path) == ("127.0.0.1", 8443, "/hook")
    assert host == {"Host": "localhost:8443"}
    assert extensions == {"sni_hostname": "localhost"}  # TLS still checks the name
    assert (await guard.check("http://[::1]/hook")).address == ipaddress.ip_address("::1")
    with pytest.raises(TargetRefused, match="loopback"):
        await guard.check("http://127.0.0.2/hook")
    with pytest.raises(TargetRefused, match="does not resolve"):
        await guard.check("http://no-such-host.invalid/hook")
    plain = Target(url=target.url.copy_with(scheme="http", port=None), address=target.address)
    assert plain.pinned()[1:] == ({"Host": "localhost"}, {})


@pytest.mark.unit
@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("::ffff:169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("172.16.0.1", "private"),
        ("224.0.0.1", "multicast"),
        ("::", "unspecified"),
        ("240.0.0.1", "address"),  # reserved (Python counts it private too)
        ("100.64.0.1", "not a public"),
        ("2002:7f00:1::", "loopback"),  # 6to4 carrying 127.0.0.1
        ("fec0::1", "site-local"),
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
    ],
)
def test_only_public_addresses_may_be_reached(address: str, kind: str | None) -> None:
    reason = refusal(ipaddress.ip_address(address))
    assert (reason is None) if kind is None else (reason is not None and kind in reason), reason


async def test_a_token_minted_with_the_secret_can_be_revoked(stack: Stack) -> None:
    # The operator's bootstrap admin token: signed with the shared secret, held by no user.
    minted = TokenCodec(TEST_SECRET).issue(user_id="ops", name="运维", role=Role.admin)
    bearer = {"Authorization": f"Bearer {minted.token}"}
    assert (await stack.client.get("/admin/users", headers=bearer)).status_code == 200
    revoked = await stack.client.delete(f"/admin/tokens/{minted.token_id}", headers=admin())
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["user_id"] is None
    assert revoked.json()["revoked_at"] is not None
    refused = await stack.client.get("/admin/users", headers=bearer)
    assert (refused.status_code, refused.json()["message"]) == (401, "token revoked")
    events = await stack.probe.wait_for("token.revoked")
    assert minted.token_id in [e.data["token_id"] for e in events]
    again = await stack.client.delete(f"/admin/tokens/{minted.token_id}", headers=admin())
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]


# Where a token secret is written: a quoted literal of 32+ secret-like characters on a line
# that speaks of a secret or signs tokens, or the value of MAILBOX_TOKEN_SECRET=.
_LITERAL = re.compile(r"""["']([A-Za-z0-9._~+/=-]{32,})["']""")
_ENV_VALUE = re.compile(r"""TOKEN_SECRET["']?\s*[=:]\s*["']?([^\s"'$]{32,})""")
_SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__", "var", "dist", "build"}
_SKIPPED_SUFFIXES = {".lock", ".pyc", ".png", ".jpg", ".svg", ".onnx", ".gz", ".zip"}


def _repository_files() -> Iterator[Path]:
    for path in sorted(REPO.rglob("*")):
        parts = path.relative_to(REPO).parts
        if any(p in _SKIPPED_DIRS or p.startswith(".") for p in parts[:-1]):
            continue
        if path.is_file() and path.suffix not in _SKIPPED_SUFFIXES:
            yield path


def _secrets_in_repository() -> dict[str, str]:
    """Every token secret written in the repository, with where it was found first."""
    found: dict[str, str] = {}
    for path in _repository_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            lowered = line.lower()
            if "secret" not in lowered and "tokencodec(" not in lowered:
                continue
            for value in [*_LITERAL.findall(line), *_ENV_VALUE.findall(line)]:
                found.setdefault(value, f"{path.relative_to(REPO)}:{number}")
    return found


@pytest.mark.unit
def test_production_refuses_every_secret_written_in_the_repository() -> None:
    found = _secrets_in_repository()
    # The scan finds what it must: the local stack's and the tests' secrets at least.
    assert {TEST_SECRET, "local-deployment-token-secret-0123456789"} <= set(found)
    missing = {value: where for value, where in found.items() if value not in KNOWN_SECRETS}
    assert not missing, f"add these to shared.settings.KNOWN_SECRETS: {missing}"
    for secret in KNOWN_SECRETS | set(found):
        with pytest.raises(ValidationError, match="token_secret"):
            ServiceSettings(
                environment="production",
                token_secret=secret,
                amqp_url="amqp://mailbox:pw@127.0.0.1:5672/",
            )
    fresh = ServiceSettings(
        environment="production",
        token_secret="Zq" + "3v" * 20,  # made here, written nowhere else
        amqp_url="amqp://mailbox:pw@127.0.0.1:5672/",
    )
    assert fresh.environment == "production"
