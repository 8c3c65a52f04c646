"""By competence (Art. 13): 直办 to a lead unit, 转阅 to a recipient, 呈办 to the city office.

Order of the decision: an explicit escalation cue; a commission unit whose keywords weigh
more than any other department's (naming the commission adds to its side) and at least
`min_direct_score`; several departments at once; another department (or, for a local matter
in one named district, that district's government); a local matter in a named district; the
default unit when the letter names the commission; else, with a low confidence, the city
mailbox office, which knows every department: never a confident default to our own office.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from services.routing.classify.matching import (
    CompiledDirectory,
    CompiledRules,
    CueMatch,
    CueTable,
    joined,
    normalise,
)
from services.routing.classify.reading import LetterText, match_words
from services.routing.classify.suggestion import (
    FALLBACK_CONFIDENCE,
    MAX_ALTERNATIVES,
    CompetenceAlternative,
    CompetenceSuggestion,
    Evidence,
    EvidenceKind,
    share_confidence,
)
from services.routing.directory.models import Directory, ExternalRecipient, Unit
from shared.events.vocabulary import Route

_E = TypeVar("_E", Unit, ExternalRecipient)


@dataclass(frozen=True, slots=True)
class DirectoryMatches:
    """Directory matches for one letter, computed once and read by scope and competence."""

    own: list[tuple[Unit, CueMatch]]
    departments: list[tuple[ExternalRecipient, CueMatch]]
    districts: list[ExternalRecipient]

    @property
    def own_best(self) -> float:
        """The best commission unit's score (0 when none matched)."""
        return self.own[0][1].score if self.own else 0.0

    @property
    def department_best(self) -> float:
        """The best other department's score (0 when none matched)."""
        return self.departments[0][1].score if self.departments else 0.0


def _ranked(pairs: Sequence[tuple[_E, CueMatch]]) -> list[tuple[_E, CueMatch]]:
    hits = [pair for pair in pairs if pair[1].score > 0]
    # sorted() is stable: on equal scores the directory's order decides.
    return sorted(hits, key=lambda pair: -pair[1].score)


def directory_matches(letter: LetterText, directory: CompiledDirectory) -> DirectoryMatches:
    """Score every unit and department on the letter, best first, and find the districts named."""

    def scored(entry: Unit | ExternalRecipient, table: CueTable) -> CueMatch:
        names = {normalise(name) for name in (entry.name, *entry.aliases)}
        return match_words(table, letter, names=names)

    return DirectoryMatches(
        own=_ranked([(unit, scored(unit, table)) for unit, table in directory.units]),
        departments=_ranked([(dept, scored(dept, table)) for dept, table in directory.departments]),
        districts=[d for d, table in directory.districts if scored(d, table).score > 0],
    )


def _place(district: ExternalRecipient) -> str:
    return district.aliases[0] if district.aliases else district.name


def _entry_evidence(entry: Unit | ExternalRecipient, match: CueMatch, what: str) -> Evidence:
    return Evidence(
        kind=EvidenceKind.directory,
        summary=f"{what}{entry.name}：{joined(match)}",
        rule=entry.id,
        words=list(match.words),
        score=match.score,
    )


def suggest_competence(
    letter: LetterText, *, compiled: CompiledRules, directory: Directory, matches: DirectoryMatches
) -> CompetenceSuggestion:
    """Suggest direct, forward or escalate with its target and reasons."""
    rules = compiled.rules.competence
    city = directory.city_office
    escalate = match_words(compiled.escalate, letter)
    mention = match_words(compiled.own_mentions, letter)
    local = match_words(compiled.local, letter)
    alternatives = [
        *(
            CompetenceAlternative(route=Route.direct, target_id=u.id, score=m.score)
            for u, m in matches.own
        ),
        *(
            CompetenceAlternative(route=Route.forward, target_id=d.id, score=m.score)
            for d, m in matches.departments
        ),
    ]
    if escalate.score > 0:
        alternatives.append(
            CompetenceAlternative(route=Route.escalate, target_id=city.id, score=escalate.score)
        )

    def suggestion(
        route: Route, *, target: str, score: float, confidence: float, reasons: list[Evidence]
    ) -> CompetenceSuggestion:
        others = [a for a in alternatives if not (a.route is route and a.target_id == target)]
        lead = target if route is Route.direct else None
        assisting = [
            u.id
            for u, m in matches.own
            if route is Route.direct and u.id != lead and m.score >= rules.assist_min_score
        ][: rules.max_assisting]
        return CompetenceSuggestion(
            route=route,
            lead_unit_id=lead,
            assisting_unit_ids=assisting,
            recipient_id=None if route is Route.direct else target,
            score=score,
            confidence=round(min(confidence, 0.95), 3),
            reasons=reasons,
            alternatives=others[:MAX_ALTERNATIVES],
        )

    if escalate.score >= rules.escalate_threshold:
        return suggestion(
            Route.escalate,
            target=city.id,
            score=escalate.score,
            confidence=0.5 + 0.1 * escalate.score,
            reasons=[
                Evidence(
                    kind=EvidenceKind.rule,
                    summary=f"涉及多个部门或难以界定：{joined(escalate)}",
                    rule="competence.escalate_cues",
                    words=list(escalate.words),
                    score=escalate.score,
                )
            ],
        )
    own_best, dept_best = matches.own_best, matches.department_best
    own_side = own_best + mention.score
    if (own_best >= rules.min_direct_score or (own_best > 0 and mention.score > 0)) and (
        own_side > dept_best or (mention.score > 0 and own_side >= dept_best)
    ):
        unit, match = matches.own[0]
        reasons = [_entry_evidence(unit, match, "属")]
        if mention.score > 0 and dept_best > 0:
            reasons.append(
                Evidence(
                    kind=EvidenceKind.rule,
                    summary=f"来信指明商务部门：{joined(mention)}",
                    rule="competence.own_mentions",
                    words=list(mention.words),
                )
            )
        return suggestion(
            Route.direct,
            target=unit.id,
            score=match.score,
            confidence=share_confidence(own_best + mention.score, dept_best),
            reasons=reasons,
        )
    busy = [(d, m) for d, m in matches.departments if m.score >= rules.multi_department_min_score]
    if len(busy) >= rules.multi_department_count:
        return suggestion(
            Route.escalate,
            target=city.id,
            score=float(len(busy)),
            confidence=0.6,
            reasons=[
                Evidence(
                    kind=EvidenceKind.directory,
                    summary="涉及多个市级部门：" + "、".join(d.name for d, _ in busy),
                    rule="competence.multi_department_count",
                    words=[w for _, m in busy for w in m.words],
                    score=float(len(busy)),
                )
            ],
        )
    district = matches.districts[0] if len(matches.districts) == 1 else None
    if dept_best > 0:
        dept, match = matches.departments[0]
        reasons = [_entry_evidence(dept, match, "属")]
        target = dept.id
        named = {normalise(name) for name in (dept.name, *dept.aliases)} & set(match.words)
        if district is not None and local.score > 0 and not named:
            # A local matter in a named district is the district government's (属地管理),
            # unless the writer asks for the department by name.
            target = district.id
            alternatives.insert(
                0, CompetenceAlternative(route=Route.forward, target_id=dept.id, score=match.score)
            )
            reasons.insert(
                0,
                Evidence(
                    kind=EvidenceKind.rule,
                    summary=f"属地事项（{joined(local)}），发生在{_place(district)}",
                    rule="competence.local_cues",
                    words=list(local.words),
                    score=local.score,
                ),
            )
        return suggestion(
            Route.forward,
            target=target,
            score=match.score,
            confidence=share_confidence(dept_best, own_best + mention.score),
            reasons=reasons,
        )
    if district is not None and local.score > 0:
        return suggestion(
            Route.forward,
            target=district.id,
            score=local.score,
            confidence=share_confidence(local.score, 1.0),
            reasons=[
                Evidence(
                    kind=EvidenceKind.rule,
                    summary=f"属地事项（{joined(local)}），发生在{_place(district)}",
                    rule="competence.local_cues",
                    words=list(local.words),
                    score=local.score,
                )
            ],
        )
    if mention.score > 0:
        fallback = directory.unit(rules.default_unit_id) or directory.units[0]
        return suggestion(
            Route.direct,
            target=fallback.id,
            score=0.0,
            confidence=FALLBACK_CONFIDENCE,
            reasons=[
                Evidence(
                    kind=EvidenceKind.default,
                    summary=f"来信指明商务部门（{joined(mention)}），未匹配到具体职责单位，"
                    f"先交{fallback.name}",
                    rule="competence.default_unit_id",
                    words=list(mention.words),
                )
            ],
        )
    weak = [f"{unit.name}（{joined(match)}）" for unit, match in matches.own]
    return suggestion(
        Route.escalate,
        target=city.id,
        score=0.0,
        confidence=FALLBACK_CONFIDENCE,
        reasons=[
            Evidence(
                kind=EvidenceKind.default,
                summary="未匹配到商务职责或其他部门职责"
                + (f"（仅有弱线索：{'、'.join(weak)}）" if weak else "")
                + f"，呈{city.name}分办，请人工确认",
                rule="competence.min_direct_score" if weak else "competence.default",
                words=[w for _, m in matches.own for w in m.words],
            )
        ],
    )
