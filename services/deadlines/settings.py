"""Settings of the deadlines service (env prefix `MAILBOX_DEADLINES_`, fallback `MAILBOX_`)."""

from __future__ import annotations

from datetime import time

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

DEFAULT_WEIGHTS = {"reminder_unanswered": 2.0, "wrong_publication_mode": 2.0, "manual": 1.0}


class DeadlinesSettings(ServiceSettings):
    """Calendar, timers, sweep and assessment settings."""

    model_config = SettingsConfigDict(env_prefix="MAILBOX_DEADLINES_", extra="ignore", frozen=True)

    mongo_db: str = "mailbox_deadlines"
    close_of_business: time = Field(
        default=time(23, 59, 59), description="local time of day at which a clock falls due"
    )
    due_soon_working_days: int = Field(
        default=1,
        ge=0,
        le=10,
        description="notice at 00:00 of the N-th last working day before the due; 0 = none",
    )
    reminder_answer_working_days: int = Field(default=1, ge=1, le=30)
    sweep_interval_s: float = Field(default=60.0, gt=0)
    start_timers: bool = Field(default=True, description="run the arq worker in this process")
    timer_queue: str | None = Field(
        default=None, description="arq queue name; default derived from the exchange name"
    )
    timer_poll_delay_s: float = Field(default=0.5, gt=0)
    timer_max_jobs: int = Field(default=20, ge=1, le=1000)
    clock_control: bool = Field(
        default=False, description="expose POST /admin/clock (demo, end-to-end tests only)"
    )
    assessment_base_points: float = Field(default=100.0, ge=0, le=1000)
    assessment_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    @model_validator(mode="after")
    def _check(self) -> DeadlinesSettings:
        if self.clock_control and self.environment == "production":
            raise ValueError("clock_control moves the service's time: refused in production")
        if self.close_of_business.tzinfo is not None:
            raise ValueError("close_of_business is a local Asia/Shanghai time: give no offset")
        missing = set(DEFAULT_WEIGHTS) - set(self.assessment_weights)
        if missing:
            raise ValueError(f"assessment_weights lacks {sorted(missing)}")
        if any(not 0 <= w <= 100 for w in self.assessment_weights.values()):
            raise ValueError("assessment weights must be between 0 and 100 points")
        return self

    @property
    def timer_queue_name(self) -> str:
        """The arq queue of this deployment (one per exchange, so tests do not share one)."""
        return self.timer_queue or f"arq:{self.exchange_name}:deadlines"

    def weight(self, kind: str) -> float:
        """Points deducted for one assessment item of `kind`."""
        return self.assessment_weights.get(kind, self.assessment_weights["manual"])
