"""Settings of the publishing service (env prefix `MAILBOX_PUBLISHING_`, fallback `MAILBOX_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.publishing.redaction.service import RedactionConfig
from shared.settings import ServiceSettings


class PublishingSettings(ServiceSettings):
    """Platforms, the uploader's retries, e-mail, the archive and redaction."""

    model_config = SettingsConfigDict(env_prefix="MAILBOX_PUBLISHING_", extra="ignore", frozen=True)

    mongo_db: str = "mailbox_publishing"
    platforms_file: Path | None = Field(
        default=None, description="platform configs JSON; default: the three platforms of Art. 2"
    )
    simulator_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+(:\d+)?/?$",
        description="point every configured platform at this simulator (development, tests)",
    )
    intake_url: str = Field(default="http://127.0.0.1:8001", pattern=r"^https?://[^\s]+$")
    routing_url: str = Field(default="http://127.0.0.1:8002", pattern=r"^https?://[^\s]+$")
    deadlines_url: str = Field(default="http://127.0.0.1:8003", pattern=r"^https?://[^\s]+$")
    sources_timeout_s: float = Field(default=10.0, gt=0, le=300)

    # Uploads: one attempt is one call of the platform client (which may itself retry
    # per its platform config); between attempts the uploader waits an exponential,
    # jittered back-off, and parks the upload after `upload_max_attempts`.
    uploader_enabled: bool = Field(default=True, description="run the background uploader")
    upload_max_attempts: int = Field(default=8, ge=1, le=100)
    upload_backoff_base_s: float = Field(default=2.0, ge=0, le=3600)
    upload_backoff_max_s: float = Field(default=300.0, ge=0, le=86_400)
    upload_poll_interval_s: float = Field(default=5.0, gt=0, le=3600)
    upload_claim_s: float = Field(
        default=120.0, gt=0, le=3600, description="how long one instance holds an upload it works"
    )
    upload_concurrency: int = Field(default=8, ge=1, le=256)
    upload_batch: int = Field(default=50, ge=1, le=1000)

    # E-mail replies (邮件答复). No host: replies are uploaded privately and the missing
    # e-mail is recorded (development stacks have no mail server).
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = Field(default="gkxx@swj.cq.gov.cn", max_length=256)
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=30.0, gt=0, le=600)

    archiver_enabled: bool = Field(default=True, description="run the periodic archiver")
    archive_interval_s: float = Field(default=60.0, gt=0, le=86_400)
    archive_batch: int = Field(default=50, ge=1, le=1000)
    export_max_records: int = Field(default=20_000, ge=1)

    redaction: RedactionConfig = Field(
        default_factory=RedactionConfig,
        description='masking of personal data (JSON, e.g. {"mobile_keep_head": 3})',
    )
    default_page_size: int = Field(default=50, ge=1, le=200)
