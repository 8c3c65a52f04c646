"""Platform configurations: where each platform is, how to authenticate, and how its
field names map to ours. The three platforms of Art. 2 are the default instances."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, field_validator

DEFAULT_SIMULATOR_URL = "http://127.0.0.1:8900"
DEFAULT_MAX_RECORD_BYTES = 64 * 1024

# Timestamp formats a platform may use besides a strftime pattern.
ISO8601 = "iso8601"
EPOCH_S = "epoch_s"
EPOCH_MS = "epoch_ms"
_NAMED_FORMATS = {ISO8601, EPOCH_S, EPOCH_MS}

_PATH_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PLATFORM_ID_RE = r"^[a-z][a-z0-9_]{1,39}$"


def _check_path(value: str) -> str:
    if not _PATH_RE.match(value):
        raise ValueError(f"'{value}' is not a dotted field path like 'person.name'")
    return value


class FieldMapping(BaseModel):
    """Where a platform puts each field; values are dotted paths into its JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The page envelope.
    items_path: str = "items"
    cursor_path: str = "next_cursor"
    has_more_path: str = "has_more"
    # The letter record.
    external_id: str = "id"
    title: str = "title"
    text: str = "text"
    submitted_at: str = "submitted_at"
    # "iso8601", "epoch_s", "epoch_ms" or a strftime pattern such as "%Y-%m-%d %H:%M:%S".
    submitted_at_format: str = ISO8601
    # Zone of a timestamp that carries no offset.
    naive_timezone: str = "Asia/Shanghai"
    person_name: str = "person.name"
    person_phone: str = "person.phone"
    person_id_number: str = "person.id_number"
    person_address: str = "person.address"
    person_email: str = "person.email"
    attachments: str = "attachments"
    attachment_name: str = "name"
    attachment_url: str = "url"

    @field_validator(
        "items_path",
        "cursor_path",
        "has_more_path",
        "external_id",
        "title",
        "text",
        "submitted_at",
        "person_name",
        "person_phone",
        "person_id_number",
        "person_address",
        "person_email",
        "attachments",
        "attachment_name",
        "attachment_url",
    )
    @classmethod
    def _paths(cls, value: str) -> str:
        return _check_path(value)

    @field_validator("submitted_at_format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value not in _NAMED_FORMATS and "%" not in value:
            raise ValueError(f"use one of {sorted(_NAMED_FORMATS)} or a strftime pattern")
        return value

    @field_validator("naive_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{value}'") from exc
        return value

    def person_fields(self) -> dict[str, str]:
        """Our person field name → the platform's path."""
        return {
            "name": self.person_name,
            "phone": self.person_phone,
            "id_number": self.person_id_number,
            "address": self.person_address,
            "email": self.person_email,
        }


class PlatformConfig(BaseModel):
    """One external platform: identity, endpoint, credentials, mapping and limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_PLATFORM_ID_RE)
    name: str = Field(min_length=1, max_length=100)
    # Which adapter speaks to it (`shared.platforms.factory.ADAPTERS`); the reference API.
    kind: Literal["reference_http"] = "reference_http"
    # Prefix of the reference API: `{base_url}/letters`, `{base_url}/uploads`.
    base_url: str = Field(pattern=r"^https?://[^\s]+$")
    token: SecretStr
    enabled: bool = True
    field_mapping: FieldMapping = Field(default_factory=FieldMapping)
    page_size: int = Field(default=100, ge=1, le=1000)
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    max_attempts: int = Field(default=4, ge=1, le=20)
    backoff_base_s: float = Field(default=0.5, ge=0, le=60)
    backoff_max_s: float = Field(default=30.0, ge=0, le=600)
    max_record_bytes: int = Field(default=DEFAULT_MAX_RECORD_BYTES, ge=256)
    max_title_chars: int = Field(default=500, ge=1)
    max_text_chars: int = Field(default=20_000, ge=1)

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")


GOV_MAILBOX = "gov_mailbox"
MAYOR_HOTLINE = "mayor_hotline"
SERVICE_PLATFORM = "service_platform"

# The reference field names, as the 市政府公开信箱 speaks them.
GOV_MAILBOX_MAPPING = FieldMapping()

# 市长公开电话（信箱）系统: pinyin-initial names (信件编号, 标题, 内容, 联系人, 联系电话,
# 身份证号, 联系地址, 电子邮箱, 提交时间, 附件), local time without an offset.
MAYOR_HOTLINE_MAPPING = FieldMapping(
    items_path="data.rows",
    cursor_path="data.next",
    has_more_path="data.more",
    external_id="xjbh",
    title="bt",
    text="nr",
    submitted_at="tjsj",
    submitted_at_format="%Y-%m-%d %H:%M:%S",
    person_name="lxr",
    person_phone="lxdh",
    person_id_number="sfzh",
    person_address="lxdz",
    person_email="dzyx",
    attachments="fj",
    attachment_name="mc",
    attachment_url="dz",
)

# 服务群众工作信息平台: camelCase names, the writer nested, time in epoch milliseconds.
SERVICE_PLATFORM_MAPPING = FieldMapping(
    items_path="records",
    cursor_path="nextCursor",
    has_more_path="hasMore",
    external_id="letterId",
    title="subject",
    text="content",
    submitted_at="createdAt",
    submitted_at_format=EPOCH_MS,
    person_name="submitter.fullName",
    person_phone="submitter.mobile",
    person_id_number="submitter.idCard",
    person_address="submitter.address",
    person_email="submitter.email",
    attachments="files",
    attachment_name="fileName",
    attachment_url="downloadUrl",
)

_DEFAULTS: tuple[tuple[str, str, FieldMapping], ...] = (
    (GOV_MAILBOX, "重庆市人民政府公开信箱", GOV_MAILBOX_MAPPING),
    (MAYOR_HOTLINE, "重庆市市长公开电话（信箱）系统", MAYOR_HOTLINE_MAPPING),
    (SERVICE_PLATFORM, "重庆市服务群众工作信息平台", SERVICE_PLATFORM_MAPPING),
)


def dev_token(platform_id: str) -> str:
    """The development token of a default platform (the simulator accepts it)."""
    return f"dev-only-{platform_id}-token"


def default_platform_configs(*, simulator_url: str = DEFAULT_SIMULATOR_URL) -> list[PlatformConfig]:
    """The three platforms of Art. 2, pointing at the simulator with development tokens."""
    base = simulator_url.rstrip("/")
    return [
        PlatformConfig(
            id=pid,
            name=name,
            base_url=f"{base}/p/{pid}",
            token=SecretStr(dev_token(pid)),
            field_mapping=mapping,
        )
        for pid, name, mapping in _DEFAULTS
    ]


_CONFIG_LIST = TypeAdapter(list[PlatformConfig])


def load_platform_configs(
    path: Path | str | None = None, *, simulator_url: str | None = None
) -> list[PlatformConfig]:
    """Platform configs from a JSON file (a list, or {"platforms": [...]}), else the defaults."""
    if path is None:
        return default_platform_configs(simulator_url=simulator_url or DEFAULT_SIMULATOR_URL)
    data: Any = orjson.loads(Path(path).read_bytes())
    if isinstance(data, dict) and "platforms" in data:
        data = data["platforms"]
    configs = _CONFIG_LIST.validate_python(data)
    _require_unique_ids(configs)
    return configs


def _require_unique_ids(configs: Sequence[PlatformConfig]) -> None:
    seen: set[str] = set()
    for config in configs:
        if config.id in seen:
            raise ValueError(f"platform id '{config.id}' is configured twice")
        seen.add(config.id)


def dump_platform_configs(configs: Sequence[PlatformConfig], *, reveal_tokens: bool) -> bytes:
    """JSON that `load_platform_configs` reads back (tokens masked unless revealed)."""
    rows = []
    for config in configs:
        row = config.model_dump(mode="json")
        if reveal_tokens:
            row["token"] = config.token.get_secret_value()
        rows.append(row)
    return orjson.dumps({"platforms": rows}, option=orjson.OPT_INDENT_2)


def configured_platforms(
    platforms_file: Path | None, *, simulator_url: str | None, reserved: str
) -> list[PlatformConfig]:
    """The platforms a service talks to: the file's, or the simulator's three; with both,
    the file's platforms pointed at the simulator. `reserved` is an id no platform may take
    (the letters entered by hand)."""
    configs = load_platform_configs(platforms_file, simulator_url=simulator_url)
    if simulator_url is not None and platforms_file is not None:
        base = simulator_url.rstrip("/")
        configs = [c.model_copy(update={"base_url": f"{base}/p/{c.id}"}) for c in configs]
    if any(c.id == reserved for c in configs):
        raise ValueError(f"platform id '{reserved}' is reserved for letters entered by hand")
    return configs
