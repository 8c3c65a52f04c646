"""Who handles what: the commission's units, external recipients and the city mailbox office.

Plain serialisable models: the routing service stores them in MongoDB and an admin edits
them; the packaged sample file seeds the demo and the tests.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

SAMPLE_DIRECTORY_PATH = Path(__file__).parent / "data" / "sample_directory.json"

UnitId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
Name = Annotated[str, Field(min_length=1, max_length=64)]
Keyword = Annotated[str, Field(min_length=1, max_length=64)]
Topic = Annotated[str, Field(min_length=1, max_length=200)]


class UnitKind(StrEnum):
    """A commission unit: 处室 (department of the organ) or 委属单位 (affiliated body)."""

    department = "department"
    affiliated = "affiliated"


class RecipientKind(StrEnum):
    """Where a letter outside the commission goes: 转阅 to these, 呈办 to the city office."""

    municipal_department = "municipal_department"
    district_government = "district_government"
    city_mailbox_office = "city_mailbox_office"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UnitId
    name: Name
    topics: list[Topic] = Field(min_length=1, description="What it handles, in words people use.")
    keywords: list[Keyword] = Field(
        default_factory=list, description="Words in a letter that point to it."
    )
    aliases: list[Name] = Field(
        default_factory=list, description="Other names a letter may use (short names)."
    )
    sample: bool = Field(default=False, description="Invented or simplified for the sample.")


class Unit(_Entry):
    """A unit of the commission that can lead or assist (承办单位)."""

    kind: UnitKind


class ExternalRecipient(_Entry):
    """A municipal department, a district/county government, or the city mailbox office."""

    kind: RecipientKind


class Directory(BaseModel):
    """The whole directory; ids are unique across units and recipients."""

    model_config = ConfigDict(extra="forbid")

    sample: bool = False
    note: str = Field(default="", max_length=2000)
    version: int = Field(default=1, ge=1)
    units: list[Unit] = Field(min_length=1)
    recipients: list[ExternalRecipient] = Field(default_factory=list)
    city_office: ExternalRecipient

    @model_validator(mode="after")
    def _consistent(self) -> Directory:
        ids = [entry.id for entry in self.entries()]
        duplicates = sorted({entry_id for entry_id in ids if ids.count(entry_id) > 1})
        if duplicates:
            raise ValueError(f"duplicate ids: {', '.join(duplicates)}")
        if self.city_office.kind is not RecipientKind.city_mailbox_office:
            raise ValueError("city_office must be of kind city_mailbox_office")
        if any(r.kind is RecipientKind.city_mailbox_office for r in self.recipients):
            raise ValueError("the city mailbox office belongs in city_office, not recipients")
        return self

    def entries(self) -> list[Unit | ExternalRecipient]:
        """Every unit and recipient, the city office last."""
        return [*self.units, *self.recipients, self.city_office]

    def unit(self, unit_id: str) -> Unit | None:
        """The commission unit with this id, if any."""
        return next((unit for unit in self.units if unit.id == unit_id), None)

    def recipient(self, recipient_id: str) -> ExternalRecipient | None:
        """The external recipient (or the city office) with this id, if any."""
        if recipient_id == self.city_office.id:
            return self.city_office
        return next((r for r in self.recipients if r.id == recipient_id), None)

    def name_of(self, entry_id: str) -> str:
        """The Chinese name behind an id, or the id itself when unknown."""
        found = self.unit(entry_id) or self.recipient(entry_id)
        return found.name if found else entry_id


def load_directory(path: Path | None = None) -> Directory:
    """Read a directory from JSON (default: the packaged sample)."""
    return Directory.model_validate_json((path or SAMPLE_DIRECTORY_PATH).read_bytes())
