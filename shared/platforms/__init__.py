"""External mailbox platforms (Art. 2): the client protocol, the reference HTTP adapter,
the platform configurations and (imported on its own) the simulator."""

from shared.platforms.client import (
    PlatformClient,
    PlatformError,
    PlatformMalformed,
    PlatformRejected,
    PlatformUnavailable,
    UploadConflict,
)
from shared.platforms.config import (
    DEFAULT_SIMULATOR_URL,
    GOV_MAILBOX,
    MAYOR_HOTLINE,
    SERVICE_PLATFORM,
    FieldMapping,
    PlatformConfig,
    default_platform_configs,
    load_platform_configs,
)
from shared.platforms.http import HttpPlatformClient
from shared.platforms.models import (
    MalformedRecord,
    PersonData,
    PlatformAttachment,
    PlatformLetter,
    PollPage,
    Upload,
    UploadReceipt,
)

__all__ = [
    "DEFAULT_SIMULATOR_URL",
    "GOV_MAILBOX",
    "MAYOR_HOTLINE",
    "SERVICE_PLATFORM",
    "FieldMapping",
    "HttpPlatformClient",
    "MalformedRecord",
    "PersonData",
    "PlatformAttachment",
    "PlatformClient",
    "PlatformConfig",
    "PlatformError",
    "PlatformLetter",
    "PlatformMalformed",
    "PlatformRejected",
    "PlatformUnavailable",
    "PollPage",
    "Upload",
    "UploadConflict",
    "UploadReceipt",
    "default_platform_configs",
    "load_platform_configs",
]
