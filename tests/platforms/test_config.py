"""Platform configurations: the three defaults of Art. 2, files, and what is refused."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from shared.platforms.config import (
    FieldMapping,
    default_platform_configs,
    dump_platform_configs,
    load_platform_configs,
)

pytestmark = pytest.mark.unit  # needs no server


def test_the_three_platforms_of_article_2_are_the_defaults() -> None:
    configs = load_platform_configs(simulator_url="http://127.0.0.1:9999/")
    assert {c.id: c.name for c in configs} == {
        "gov_mailbox": "重庆市人民政府公开信箱",
        "mayor_hotline": "重庆市市长公开电话（信箱）系统",
        "service_platform": "重庆市服务群众工作信息平台",
    }
    assert [c.base_url for c in configs] == [f"http://127.0.0.1:9999/p/{c.id}" for c in configs]
    assert all(c.enabled and c.max_record_bytes == 64 * 1024 for c in configs)
    assert len({c.field_mapping.external_id for c in configs}) == 3


def test_a_file_round_trips_with_tokens_revealed(tmp_path: Path) -> None:
    configs = default_platform_configs()
    path = tmp_path / "platforms.json"
    path.write_bytes(dump_platform_configs(configs, reveal_tokens=True))
    loaded = load_platform_configs(path)
    assert loaded == configs
    assert [c.token.get_secret_value() for c in loaded] == [
        c.token.get_secret_value() for c in configs
    ]


def test_a_dump_hides_tokens_unless_asked() -> None:
    configs = default_platform_configs()
    text = dump_platform_configs(configs, reveal_tokens=False).decode()
    assert all(c.token.get_secret_value() not in text for c in configs)


def test_a_plain_list_with_one_platform_is_read(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_bytes(
        orjson.dumps(
            [
                {
                    "id": "district_box",
                    "name": "某区信箱",
                    "base_url": "https://box.example.invalid/api/",
                    "token": "t",
                    "enabled": False,
                    "field_mapping": {"external_id": "no", "submitted_at_format": "epoch_s"},
                }
            ]
        )
    )
    (config,) = load_platform_configs(path)
    assert config.base_url == "https://box.example.invalid/api"
    assert config.field_mapping.external_id == "no"
    assert config.field_mapping.title == "title"
    assert not config.enabled


def test_a_platform_configured_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    path.write_bytes(dump_platform_configs(default_platform_configs() * 2, reveal_tokens=True))
    with pytest.raises(ValueError, match="configured twice"):
        load_platform_configs(path)


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "bad path!"},
        {"submitted_at_format": "whenever"},
        {"naive_timezone": "Mars/Olympus"},
        {"unknown": "x"},
    ],
)
def test_a_bad_mapping_is_refused(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        FieldMapping.model_validate(fields)


def test_every_kind_of_platform_has_an_adapter_and_gets_its_client() -> None:
    from typing import get_args

    from shared.platforms.config import PlatformConfig, default_platform_configs
    from shared.platforms.factory import ADAPTERS, platform_clients
    from shared.platforms.http import HttpPlatformClient

    kinds = set(get_args(PlatformConfig.model_fields["kind"].annotation))
    assert kinds == set(ADAPTERS)
    clients = platform_clients(default_platform_configs())
    assert set(clients) == {c.id for c in default_platform_configs()}
    assert all(isinstance(client, HttpPlatformClient) for client in clients.values())


def test_a_platform_may_not_take_the_id_of_letters_entered_by_hand(tmp_path: Path) -> None:
    from shared.platforms.config import (
        configured_platforms,
        default_platform_configs,
        dump_platform_configs,
    )

    taken = default_platform_configs()[0].model_copy(update={"id": "manual"})
    path = tmp_path / "platforms.json"
    path.write_bytes(dump_platform_configs([taken], reveal_tokens=True))
    with pytest.raises(ValueError, match="reserved"):
        configured_platforms(path, simulator_url=None, reserved="manual")
