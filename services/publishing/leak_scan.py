"""The last gate before online publication: refuse a text in which personal data still shows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from services.publishing.person_match import (
    Needle,
    email_needle,
    find_spaced,
    id_needle,
    name_needle,
    phone_needles,
)
from services.publishing.pii_patterns import Masking, find_numbers_and_emails, normalise
from services.publishing.redaction import PersonData

_DEFAULT_MASKING = Masking()


class Leak(BaseModel):
    """One finding: which pattern still matches, and where (the matched text is left out)."""

    model_config = ConfigDict(frozen=True)

    pattern: str
    start: int
    end: int

    def describe(self) -> str:
        """A message for an operator, without the leaked value itself."""
        return f"{self.pattern} at characters {self.start}–{self.end}"


def leak_scan(text: str, *, person: PersonData | None = None) -> list[Leak]:
    """Every still-matching pattern: ID, phone, landline, e-mail, bank card, the writer's data."""
    norm = normalise(text)
    leaks = [
        Leak(pattern=h.kind, start=h.start, end=h.end)
        for h in find_numbers_and_emails(norm, masking=_DEFAULT_MASKING)
    ]
    if person is not None:
        checks: list[tuple[str, Needle]] = []
        if person.name and (needle := name_needle(person.name)):
            checks.append(("person_name", needle))
        if person.phone:
            checks.extend(("person_phone", needle) for needle, _ in phone_needles(person.phone))
        if person.id_number and (needle := id_needle(person.id_number)):
            checks.append(("person_id_number", needle))
        if person.email and (needle := email_needle(person.email)):
            checks.append(("person_email", needle))
        for label, needle in checks:
            leaks.extend(Leak(pattern=label, start=s, end=e) for s, e in find_spaced(norm, needle))
    return sorted(leaks, key=lambda leak: (leak.start, leak.end, leak.pattern))
