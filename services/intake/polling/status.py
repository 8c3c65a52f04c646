"""The platforms' status as operators read it: polling, lag, counts and recent errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from services.intake.letters.service import IntakeService
from services.intake.polling.leases import Leases
from services.intake.polling.repository import PlatformStateRepository
from services.intake.polling.schemas import LeaseRead, PlatformErrorRead, PlatformStatus
from services.intake.quarantine.service import QuarantineService
from shared.clock import Clock, to_shanghai
from shared.mongo import Document
from shared.platforms import PlatformConfig


def _local(at: datetime | None) -> datetime | None:
    return None if at is None else to_shanghai(at)


class PlatformStatusReader:
    """Puts a platform's configuration, state, lease and counts together."""

    def __init__(
        self,
        *,
        configs: Mapping[str, PlatformConfig],
        states: PlatformStateRepository,
        leases: Leases,
        letters: IntakeService,
        quarantine: QuarantineService,
        clock: Clock,
    ) -> None:
        self._configs = dict(configs)
        self._states = states
        self._leases = leases
        self._letters = letters
        self._quarantine = quarantine
        self._clock = clock

    async def all(self) -> list[PlatformStatus]:
        """Every configured platform, in configuration order."""
        states = await self._states.all()
        return [
            await self._one(config, states.get(pid, {})) for pid, config in self._configs.items()
        ]

    async def _one(self, config: PlatformConfig, state: Document) -> PlatformStatus:
        now = self._clock.now()
        last_success = state.get("last_success_at")
        newest = state.get("newest_submitted_at")
        lease = await self._leases.holder(config.id)
        summary = state.get("last_summary")
        errors = state.get("recent_errors") or []
        return PlatformStatus(
            id=config.id,
            name=config.name,
            enabled=config.enabled,
            base_url=config.base_url,
            cursor=state.get("cursor"),
            last_poll_at=state.get("last_poll_at"),
            last_poll_at_local=_local(state.get("last_poll_at")),
            last_success_at=last_success,
            last_success_at_local=_local(last_success),
            newest_submitted_at=newest,
            seconds_since_success=(
                (now - last_success).total_seconds() if isinstance(last_success, datetime) else None
            ),
            newest_letter_age_s=(
                (now - newest).total_seconds() if isinstance(newest, datetime) else None
            ),
            letters_registered=await self._letters.count(platform=config.id),
            quarantine_open=await self._quarantine.count_open(platform=config.id),
            last_outcome=summary.get("outcome") if isinstance(summary, dict) else None,
            recent_errors=[
                PlatformErrorRead(
                    at=e["at"], at_local=to_shanghai(e["at"]), kind=e["kind"], message=e["message"]
                )
                for e in reversed(errors)
            ],
            lease=LeaseRead(owner=lease.owner, expires_at=lease.expires_at) if lease else None,
        )
