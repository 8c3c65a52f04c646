"""The platforms API: every platform's polling status, and polling one now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from services.intake.deps import (
    AUTH_ERRORS,
    PLATFORM_PATTERN,
    READ_ERRORS,
    ClerkOrAdmin,
    OfficeReader,
    PollerDep,
    StatusDep,
)
from services.intake.polling.poller import PollSummary
from services.intake.polling.schemas import PlatformStatus, PollResult
from shared.errors import Conflict, NotFound
from shared.web import error_doc


def known_platform(
    platform_id: Annotated[str, Path(pattern=PLATFORM_PATTERN)],
    _: ClerkOrAdmin,
    poller: PollerDep,
) -> str:
    """A configured platform's id (the clerk and admin only); 404 otherwise.

    The caller is checked first: a 404 before the 401/403 would tell anyone which
    platforms are configured.
    """
    if platform_id not in poller.configs:
        raise NotFound(f"platform {platform_id} is not configured")
    return platform_id


KnownPlatform = Annotated[str, Depends(known_platform)]

router = APIRouter()


@router.get(
    "/platforms",
    tags=["platforms"],
    summary="Every platform: last poll, last success, lag, counts, recent errors.",
    responses=AUTH_ERRORS,
)
async def list_platforms(_: OfficeReader, reader: StatusDep) -> list[PlatformStatus]:
    """The configured platforms and how their polling goes."""
    return await reader.all()


@router.post(
    "/platforms/{platform_id}/poll",
    tags=["platforms"],
    summary="Poll a platform now (one cycle) and say what it brought.",
    responses={
        **READ_ERRORS,
        409: error_doc("the platform is disabled, or another instance is polling it right now"),
    },
)
async def poll_now(platform_id: KnownPlatform, poller: PollerDep) -> PollResult:
    """One poll cycle now; 409 while another intake instance holds the platform's lease."""
    if not poller.configs[platform_id].enabled:
        raise Conflict(f"platform {platform_id} is disabled")
    summary = await poller.poll(platform_id)
    if summary.outcome == "busy":
        raise Conflict(
            f"platform {platform_id} is being polled by another instance",
            details={"lease_holder": summary.lease_holder},
        )
    return _poll_result(summary)


def _poll_result(summary: PollSummary) -> PollResult:
    fields = summary.stored()
    return PollResult.model_validate(fields)
