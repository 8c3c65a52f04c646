"""Signing in tells nobody which user names exist: neither by its answer nor by its time.

A name that is unknown, one that is deactivated, one with no password and one with the
wrong password are answered with the same status, body and headers; and the unknown
name is not answered faster, since an argon2 verification that returns in microseconds
for it would give it away as surely as a different message.
"""

from __future__ import annotations

import statistics
import time

import httpx
import pytest

from shared.auth import Role
from tests.security.conftest import Deployment
from tests.security.harness import headers

PASSWORD = "春江潮水连海平-海上明月共潮生"
SAMPLES = 3  # wrong passwords per name: below the lockout's five


def _comparable(response: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    varying = {"x-request-id", "date", "content-length"}
    shown = {k: v for k, v in response.headers.items() if k.lower() not in varying}
    return response.status_code, response.content, shown


async def test_the_login_does_not_tell_which_user_names_exist(deployed: Deployment) -> None:
    if "routing" not in deployed.apps:
        pytest.skip("routing (which signs people in) is not built")
    routing = deployed.client("routing")
    admin = headers(Role.admin)
    for user_id, name in (("enum.known", "已知"), ("enum.gone", "离职"), ("enum.nopass", "无密码")):
        body = {"id": user_id, "name": name, "role": "office_clerk"}
        created = await routing.post("/admin/users", json=body, headers=admin)
        assert created.status_code == 201, created.text
    for user_id in ("enum.known", "enum.gone"):
        answer = await routing.put(
            f"/admin/users/{user_id}/password", json={"password": PASSWORD}, headers=admin
        )
        assert answer.status_code == 200, answer.text
    gone = await routing.get("/admin/users/enum.gone", headers=admin)
    deactivated = await routing.post(
        "/admin/users/enum.gone/deactivate", json={"version": gone.json()["version"]}, headers=admin
    )
    assert deactivated.status_code == 200, deactivated.text

    seconds: dict[str, list[float]] = {}
    answers: dict[str, set[tuple[int, bytes, tuple[tuple[str, str], ...]]]] = {}
    for user_id in ("enum.known", "enum.gone", "enum.nopass", "enum.nobody"):
        for attempt in range(SAMPLES):
            started = time.perf_counter()
            response = await routing.post(
                "/auth/login", json={"user_id": user_id, "password": f"wrong-{attempt}"}
            )
            seconds.setdefault(user_id, []).append(time.perf_counter() - started)
            status, content, shown = _comparable(response)
            answers.setdefault(user_id, set()).add((status, content, tuple(sorted(shown.items()))))
    distinct = set().union(*answers.values())
    assert len(distinct) == 1, distinct
    status, content, _ = distinct.pop()
    assert status == 401
    assert b"wrong user name or password" in content
    # The right password of a deactivated user is refused the same way too.
    right = await routing.post("/auth/login", json={"user_id": "enum.gone", "password": PASSWORD})
    assert (right.status_code, right.content) == (401, content)
    # An argon2 verification takes a large fraction of a second; skipping it would answer
    # the unknown name in a few milliseconds.
    known = statistics.median(seconds["enum.known"])
    for user_id in ("enum.gone", "enum.nopass", "enum.nobody"):
        assert statistics.median(seconds[user_id]) > known / 3, seconds
