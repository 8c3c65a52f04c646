"""The classifier's rules as data: keyword cues with weights, thresholds and windows.

The office edits a `RuleSet` through the routing API; the classifier receives it on every
call, so an edit applies to the next letter. `version` rises with every edit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from services.routing.classify.patterns import check_pattern
from shared.events.vocabulary import Nature, NotAcceptedReason

DEFAULT_RULES_PATH = Path(__file__).parent / "data" / "default_rules.json"

Word = Annotated[str, Field(min_length=1, max_length=64)]
Weight = Annotated[float, Field(gt=0, le=100)]
# A cue list: word → weight. A word counts once however often it appears, and a word that
# is part of a longer matched word of the same list does not count again.
Cues = dict[Word, Weight]


def _linear_time(pattern: str) -> str:
    try:
        return check_pattern(pattern)
    except ValueError as error:
        reason = f"filler pattern {pattern!r} is not a linear-time (RE2) one: {error}"
        raise ValueError(reason) from None


# Checked when a rule set is read or saved: RE2 syntax, Python's meaning of \d \w \s.
FillerPattern = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_linear_time)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FirstPerson(_Model):
    """Whether the writer speaks of themselves (我, 本人): a plea for help is always about
    one's own difficulty, so a letter that never does is not suggested as one."""

    words: list[Word] = Field(default_factory=list)
    requires: dict[Nature, Annotated[int, Field(ge=1, le=100)]] = Field(
        default_factory=dict,
        description="A nature suggested only when the writer speaks of themselves this often.",
    )


class NatureRules(_Model):
    """Cues per nature; the nature with the highest sum wins, `default` when nothing matches."""

    default: Nature = Nature.other
    cues: dict[Nature, Cues] = Field(default_factory=dict)
    title_weight: Weight = Field(
        default=1.0,
        description="A cue in the title counts this many times: writers say there what they want.",
    )
    title_lead_chars: int = Field(
        default=0,
        ge=0,
        le=200,
        description="Only cues starting this near the title's start get `title_weight` (0: all).",
    )
    substantive_default: Nature | None = Field(
        default=None,
        description="Nature when no cue matched but the letter has substance (else `default`).",
    )
    title_cues: dict[Nature, Cues] = Field(
        default_factory=dict,
        description=(
            "Cues read in the title only, added to `cues` (a question mark in the title asks;"
            " in the body it is often rhetorical)."
        ),
    )
    first_person: FirstPerson = Field(default_factory=lambda: FirstPerson())


class ScopeRule(_Model):
    """One Art. 9 ground: its cues and the sum they must reach."""

    reason: NotAcceptedReason
    threshold: Weight = 2.0
    cues: Cues = Field(default_factory=dict)
    forces_nature: Nature | None = Field(
        default=None, description="Nature to suggest when this ground applies (e.g. adverts)."
    )
    description: str = Field(default="", max_length=500)
    max_letter_chars: int | None = Field(
        default=None,
        ge=1,
        description="Applies only to letters this short (测试 in a long letter is not a test).",
    )


class ScopeRules(_Model):
    """Not-accepted grounds in priority order (the first that applies is suggested)."""

    rules: list[ScopeRule] = Field(default_factory=list)
    min_substantive_chars: int = Field(
        default=6, ge=0, le=200, description="Fewer letters than this, once filler is gone: empty."
    )
    min_distinct_chars: int = Field(
        default=4, ge=0, le=50, description="Fewer distinct characters than this: meaningless."
    )
    outside_duties_max_own_score: float = Field(
        default=0.0,
        ge=0,
        description="outside_duties only when no own unit scores above this (a commerce link).",
    )
    consultation_elsewhere_is_outside_duties: bool = Field(
        default=True,
        description=(
            "A consultation about another department's matter (no own unit matched) is not"
            " accepted as outside_duties: the writer is told where to ask; complaints, reports"
            " and requests for help about such matters are forwarded instead."
        ),
    )

    @field_validator("rules")
    @classmethod
    def _one_rule_per_reason(cls, rules: list[ScopeRule]) -> list[ScopeRule]:
        reasons = [rule.reason for rule in rules]
        if len(set(reasons)) != len(reasons):
            raise ValueError("each not-accepted reason may have only one rule")
        return rules


class RepeatRules(_Model):
    """When an earlier letter makes this one a repeat (Art. 9: 内容重复)."""

    window_days: float = Field(default=30, gt=0, le=3650)
    same_writer_min_similarity: float = Field(
        default=70, ge=0, le=100, description="Same writer and at least this similar: a repeat."
    )
    near_identical_min_similarity: float = Field(
        default=92, ge=0, le=100, description="Any writer and at least this similar: a repeat."
    )
    min_chars: int = Field(
        default=8, ge=1, le=500, description="Shorter texts are too short to call near-identical."
    )
    max_reported: int = Field(default=5, ge=1, le=50)


class CompetenceRules(_Model):
    """Direct, forward or escalate: how directory keywords and cues decide between them."""

    escalate_cues: Cues = Field(default_factory=dict)
    escalate_threshold: Weight = 2.0
    multi_department_count: int = Field(
        default=3, ge=2, le=20, description="This many other departments matched: escalate."
    )
    multi_department_min_score: Weight = 1.0
    local_cues: Cues = Field(
        default_factory=dict,
        description="Matters a district/county government handles when the letter names it.",
    )
    own_mentions: Cues = Field(
        default_factory=dict, description="Words naming the commission itself: favour direct."
    )
    default_unit_id: str = Field(
        default="office",
        description="Lead unit when nothing matches and the letter names the commission.",
    )
    min_direct_score: Weight = Field(
        default=1.0,
        description="Least keyword weight for a unit to lead without the commission named.",
    )
    assist_min_score: Weight = 2.0
    max_assisting: int = Field(default=2, ge=0, le=10)


class RuleSet(_Model):
    """Everything the classifier needs besides the directory; edited by the office."""

    version: int = Field(ge=1)
    note: str = Field(default="", max_length=2000)
    filler_patterns: list[FillerPattern] = Field(
        default_factory=list,
        description=(
            "Regexes a whole clause must match to be dropped as greeting or formality; matched"
            " by RE2 in linear time (no backreferences or lookaround; \\d \\w \\s as in Python)."
        ),
    )
    nature: NatureRules = Field(default_factory=NatureRules)
    scope: ScopeRules = Field(default_factory=ScopeRules)
    repeats: RepeatRules = Field(default_factory=RepeatRules)
    competence: CompetenceRules = Field(default_factory=CompetenceRules)


def load_rules(path: Path | None = None) -> RuleSet:
    """Read a rule set from JSON (default: the packaged `default_rules.json`)."""
    return RuleSet.model_validate_json((path or DEFAULT_RULES_PATH).read_bytes())
