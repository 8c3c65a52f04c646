"""What the classifier suggests (Art. 12): nature, scope and competence, each with its reasons.

A clerk confirms or changes every suggestion; the reasons say why it was made (matched rule
words, directory keywords, similar letters) and the alternatives what came next.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from services.routing.classify.similarity import SimilarLetter
from shared.events.vocabulary import LABELS_ZH, Nature, NotAcceptedReason, Person, Route

Confidence = float
MAX_ALTERNATIVES = 4
# Confidence when nothing but a fallback speaks for a suggestion.
FALLBACK_CONFIDENCE = 0.2


def share_confidence(score: float, rival: float) -> float:
    """A confidence in [0, 1): the winner's share, damped so one weak word is not certainty."""
    return round(score / (score + rival + 1.0), 3)


class LetterInput(BaseModel):
    """What the classifier reads of a letter."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=1000)
    text: str = Field(max_length=100_000)
    person: Person | None = None
    received_at: datetime | None = Field(
        default=None,
        description="Anchors the repeat window; without it every recent letter counts.",
    )


class EvidenceKind(StrEnum):
    """Where a reason comes from."""

    rule = "rule"  # words of a rule-set cue list
    directory = "directory"  # keywords or names of a directory entry
    similar_letter = "similar_letter"
    empty = "empty"  # nothing of substance once greetings and contact details are gone
    default = "default"  # nothing matched: the rule set's fallback


class Evidence(BaseModel):
    """One reason behind a suggestion."""

    model_config = ConfigDict(frozen=True)

    kind: EvidenceKind
    summary: str = Field(description="The reason in words a clerk reads.")
    rule: str | None = Field(default=None, description="Which rule or directory entry.")
    words: list[str] = Field(default_factory=list)
    score: float = 0.0
    letter_id: str | None = None
    similarity: float | None = None


class NatureAlternative(BaseModel):
    value: Nature
    score: float


class NatureSuggestion(BaseModel):
    """By nature: 建议 求助 投诉 举报 咨询 其他."""

    value: Nature
    score: float
    confidence: Confidence = Field(ge=0, le=1)
    reasons: list[Evidence]
    alternatives: list[NatureAlternative]


class ScopeAlternative(BaseModel):
    accepted: bool
    reason: NotAcceptedReason | None
    score: float


class ScopeSuggestion(BaseModel):
    """By scope: accepted, or not accepted on one Art. 9 ground."""

    accepted: bool
    reason: NotAcceptedReason | None
    score: float
    confidence: Confidence = Field(ge=0, le=1)
    reasons: list[Evidence]
    alternatives: list[ScopeAlternative]


class CompetenceAlternative(BaseModel):
    route: Route
    target_id: str
    score: float


class CompetenceSuggestion(BaseModel):
    """By competence: 直办 to a lead unit, 转阅 to a recipient, 呈办 to the city office."""

    route: Route
    lead_unit_id: str | None = None
    assisting_unit_ids: list[str] = Field(default_factory=list)
    recipient_id: str | None = Field(
        default=None, description="Forward: the department or district; escalate: the city office."
    )
    score: float
    confidence: Confidence = Field(ge=0, le=1)
    reasons: list[Evidence]
    alternatives: list[CompetenceAlternative]

    @property
    def target_id(self) -> str | None:
        """The lead unit for direct, the recipient otherwise."""
        return self.lead_unit_id if self.route is Route.direct else self.recipient_id


class Suggestion(BaseModel):
    """The three suggestions for one letter and what they were computed from."""

    nature: NatureSuggestion
    scope: ScopeSuggestion
    competence: CompetenceSuggestion
    similar_letters: list[SimilarLetter]
    rules_version: int
    directory_version: int

    def why(self) -> str:
        """A one-line account of the main reasons, for a clerk or a log."""
        parts = [f"性质 {LABELS_ZH[self.nature.value]}：{_first(self.nature.reasons)}"]
        if self.scope.accepted:
            parts.append("受理")
            route = self.competence
            target = route.target_id or "?"
            parts.append(f"{LABELS_ZH[route.route]} {target}：{_first(route.reasons)}")
        else:
            reason = self.scope.reason
            label = LABELS_ZH[reason] if reason else "?"
            parts.append(f"不受理（{label}）：{_first(self.scope.reasons)}")
        return "；".join(parts)


def _first(reasons: list[Evidence]) -> str:
    return reasons[0].summary if reasons else "无"
