"""Suggest nature, scope and competence for a letter (Art. 8, 9, 12, 13), with reasons.

Pure: the rules, the directory and the recent letters are arguments, so an edit to the
rules applies to the next letter, and the same inputs always give the same suggestion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.routing.classify.competence import (
    DirectoryMatches,
    directory_matches,
    suggest_competence,
)
from services.routing.classify.matching import (
    CompiledRules,
    compiled_directory,
    compiled_rules,
    joined,
    letter_chars,
)
from services.routing.classify.reading import LetterText, match_words, read_letter
from services.routing.classify.rules import RuleSet
from services.routing.classify.similarity import (
    RecentLetter,
    SimilarLetter,
    find_similar,
    writer_key,
)
from services.routing.classify.suggestion import (
    FALLBACK_CONFIDENCE,
    MAX_ALTERNATIVES,
    Evidence,
    EvidenceKind,
    LetterInput,
    NatureAlternative,
    NatureSuggestion,
    ScopeAlternative,
    ScopeSuggestion,
    Suggestion,
    share_confidence,
)
from services.routing.directory.models import Directory
from shared.events.vocabulary import LABELS_ZH, Nature, NotAcceptedReason


def _nature_evidence(
    reading: LetterText, title: LetterText, compiled: CompiledRules
) -> dict[Nature, list[Evidence]]:
    """Per nature, what speaks for it: its cue words (those at the head of the title weighing
    more) and the cues read in the title only."""
    rules = compiled.rules.nature
    found: dict[Nature, list[Evidence]] = {}

    def add(nature: Nature, evidence: Evidence) -> None:
        found.setdefault(nature, []).append(evidence)

    for nature, table in compiled.nature:
        match = match_words(table, reading, title_weight=rules.title_weight)
        if match.score > 0:
            add(
                nature,
                Evidence(
                    kind=EvidenceKind.rule,
                    summary=f"{LABELS_ZH[nature]}类用语：{joined(match)}",
                    rule=f"nature.{nature.value}",
                    words=list(match.words),
                    score=match.score,
                ),
            )
    if title.text:
        for nature, table in compiled.nature_title:
            match = match_words(table, title)
            if match.score > 0:
                add(
                    nature,
                    Evidence(
                        kind=EvidenceKind.rule,
                        summary=f"标题{LABELS_ZH[nature]}类用语：{joined(match)}",
                        rule=f"nature.title_cues.{nature.value}",
                        words=list(match.words),
                        score=match.score,
                    ),
                )
    return found


def _suggest_nature(
    reading: LetterText, title: LetterText, compiled: CompiledRules, *, substantive: bool
) -> NatureSuggestion:
    rules = compiled.rules.nature
    person = rules.first_person
    # A plea for help is the writer's own: a letter that never says 我 is not one.
    mentions = sum(reading.text.count(word) for word in person.words)
    found = {
        nature: evidence
        for nature, evidence in _nature_evidence(reading, title, compiled).items()
        if mentions >= person.requires.get(nature, 0)
    }
    scored = sorted(
        ((nature, sum(e.score for e in ev), ev) for nature, ev in found.items()),
        key=lambda item: -item[1],
    )
    if not scored:
        default = (rules.substantive_default if substantive else None) or rules.default
        return NatureSuggestion(
            value=default,
            score=0.0,
            confidence=FALLBACK_CONFIDENCE,
            reasons=[
                Evidence(
                    kind=EvidenceKind.default,
                    summary=f"未见性质用语，按默认归为{LABELS_ZH[default]}",
                )
            ],
            alternatives=[],
        )
    (best, score, evidence), rest = scored[0], scored[1:]
    total_rest = sum(other for _, other, _ in rest)
    return NatureSuggestion(
        value=best,
        score=score,
        confidence=share_confidence(score, total_rest),
        reasons=sorted(evidence, key=lambda e: -e.score),
        alternatives=[
            NatureAlternative(value=nature, score=other)
            for nature, other, _ in rest[:MAX_ALTERNATIVES]
        ],
    )


@dataclass(slots=True)
class _Ground:
    reason: NotAcceptedReason
    score: float
    threshold: float
    evidence: list[Evidence]


def _scope_grounds(
    *,
    text: str,
    reading: LetterText,
    compiled: CompiledRules,
    matches: DirectoryMatches,
    nature: Nature,
    similar: list[SimilarLetter],
) -> tuple[list[_Ground], list[_Ground]]:
    """Grounds that apply, in priority order, and those that matched below their threshold."""
    rules = compiled.rules.scope
    applying: dict[NotAcceptedReason, _Ground] = {}
    partial: list[_Ground] = []
    chars = letter_chars(text)
    if len(chars) < rules.min_substantive_chars or len(set(chars)) < rules.min_distinct_chars:
        applying[NotAcceptedReason.repetitive_or_empty] = _Ground(
            NotAcceptedReason.repetitive_or_empty,
            score=1.0,
            threshold=1.0,
            evidence=[
                Evidence(
                    kind=EvidenceKind.empty,
                    summary=f"除称呼、个人信息和客套语外仅余{len(chars)}字，内容空泛",
                    rule="scope.min_substantive_chars",
                )
            ],
        )
    repeats = [letter for letter in similar if letter.repeat]
    if repeats:
        ground = applying.setdefault(
            NotAcceptedReason.repetitive_or_empty,
            _Ground(NotAcceptedReason.repetitive_or_empty, score=1.0, threshold=1.0, evidence=[]),
        )
        ground.evidence.extend(
            Evidence(
                kind=EvidenceKind.similar_letter,
                summary=(
                    f"与来信 {letter.letter_id} 相似度 {letter.similarity:.0f}"
                    + ("（同一来信人）" if letter.same_writer else "")
                ),
                rule="repeats",
                letter_id=letter.letter_id,
                similarity=letter.similarity,
                score=letter.similarity,
            )
            for letter in repeats
        )
    for rule, table in compiled.scope:
        if rule.max_letter_chars is not None and len(chars) > rule.max_letter_chars:
            continue
        # Quoted speech reports what others said (a threat, an advert): not the letter's own.
        match = match_words(table, reading, skip_quoted=True)
        if match.score <= 0:
            continue
        evidence = Evidence(
            kind=EvidenceKind.rule,
            summary=f"规则用语：{joined(match)}",
            rule=f"scope.{rule.reason.value}",
            words=list(match.words),
            score=match.score,
        )
        applies = match.score >= rule.threshold
        if rule.reason is NotAcceptedReason.outside_duties:
            # A commerce link keeps the letter ours, whatever else it mentions.
            applies = applies and matches.own_best <= rules.outside_duties_max_own_score
        ground = _Ground(rule.reason, match.score, rule.threshold, [evidence])
        if not applies:
            partial.append(ground)
        elif rule.reason in applying:
            applying[rule.reason].evidence.append(evidence)
        else:
            applying[rule.reason] = ground
    if (
        rules.consultation_elsewhere_is_outside_duties
        and nature is Nature.consultation
        and NotAcceptedReason.outside_duties not in applying
        and matches.departments
        and matches.own_best <= rules.outside_duties_max_own_score
    ):
        dept, match = matches.departments[0]
        applying[NotAcceptedReason.outside_duties] = _Ground(
            NotAcceptedReason.outside_duties,
            score=match.score,
            threshold=match.score,
            evidence=[
                Evidence(
                    kind=EvidenceKind.directory,
                    summary=f"咨询{dept.name}职责事项（{joined(match)}），与商务无关",
                    rule=dept.id,
                    words=list(match.words),
                    score=match.score,
                )
            ],
        )
    order = [rule.reason for rule in rules.rules]
    if NotAcceptedReason.repetitive_or_empty not in order:
        order.insert(0, NotAcceptedReason.repetitive_or_empty)
    if NotAcceptedReason.outside_duties not in order:
        order.append(NotAcceptedReason.outside_duties)
    return [applying[reason] for reason in order if reason in applying], partial


def _suggest_scope(grounds: list[_Ground], partial: list[_Ground]) -> ScopeSuggestion:
    if grounds:
        chosen, rest = grounds[0], grounds[1:]
        if chosen.evidence and chosen.evidence[0].kind is EvidenceKind.similar_letter:
            confidence = max(e.similarity or 0.0 for e in chosen.evidence) / 100
        elif chosen.evidence and chosen.evidence[0].kind is EvidenceKind.empty:
            confidence = 0.9
        else:
            confidence = min(0.95, chosen.score / (chosen.score + chosen.threshold / 2))
        return ScopeSuggestion(
            accepted=False,
            reason=chosen.reason,
            score=chosen.score,
            confidence=round(confidence, 3),
            reasons=chosen.evidence,
            alternatives=[
                ScopeAlternative(accepted=False, reason=g.reason, score=g.score) for g in rest
            ]
            + [ScopeAlternative(accepted=True, reason=None, score=0.0)],
        )
    closest = max((g.score / g.threshold for g in partial), default=0.0)
    return ScopeSuggestion(
        accepted=True,
        reason=None,
        score=0.0,
        confidence=round(0.9 - 0.4 * min(closest, 1.0), 3),
        reasons=[
            Evidence(
                kind=EvidenceKind.default,
                summary=(
                    "未触及不受理情形"
                    if not partial
                    else "有不受理用语，但未达阈值或与商务职责相关"
                ),
                words=[w for g in partial for e in g.evidence for w in e.words],
            )
        ],
        alternatives=[
            ScopeAlternative(accepted=False, reason=g.reason, score=g.score)
            for g in sorted(partial, key=lambda g: -g.score)[:MAX_ALTERNATIVES]
        ],
    )


def classify(
    letter: LetterInput,
    *,
    rules: RuleSet,
    directory: Directory,
    recent: Sequence[RecentLetter | tuple[str, str, str, datetime]] = (),
) -> Suggestion:
    """Suggest nature, scope and competence of `letter`, each with its reasons."""
    compiled = compiled_rules(rules)
    title, body = compiled.substantive(letter.title), compiled.substantive(letter.text)
    text = f"{title}\n{body}" if title else body
    reading = read_letter(title, body, title_lead_chars=rules.nature.title_lead_chars)
    matches = directory_matches(reading, compiled_directory(directory))
    chars = letter_chars(text)
    nature = _suggest_nature(
        reading,
        read_letter("", title),
        compiled,
        substantive=len(chars) >= rules.scope.min_substantive_chars,
    )
    similar = (
        find_similar(
            letter.text,
            writer=writer_key(letter.person),
            received_at=letter.received_at,
            recent=recent,
            rules=rules.repeats,
            prepare=compiled.substantive,
        )
        if recent
        else []
    )
    grounds, partial = _scope_grounds(
        text=text,
        reading=reading,
        compiled=compiled,
        matches=matches,
        nature=nature.value,
        similar=similar,
    )
    scope = _suggest_scope(grounds, partial)
    forced = next(
        (
            r.forces_nature
            for r in rules.scope.rules
            if r.reason is scope.reason and r.forces_nature
        ),
        None,
    )
    if forced is not None and forced is not nature.value:
        nature = NatureSuggestion(
            value=forced,
            score=nature.score,
            confidence=scope.confidence,
            reasons=[
                Evidence(
                    kind=EvidenceKind.rule,
                    summary=f"{LABELS_ZH[scope.reason or forced]}一律归为{LABELS_ZH[forced]}",
                    rule=f"scope.{scope.reason}.forces_nature",
                ),
                *nature.reasons,
            ],
            alternatives=[NatureAlternative(value=nature.value, score=nature.score)],
        )
    competence = suggest_competence(
        reading, compiled=compiled, directory=directory, matches=matches
    )
    return Suggestion(
        nature=nature,
        scope=scope,
        competence=competence,
        similar_letters=similar,
        rules_version=rules.version,
        directory_version=directory.version,
    )
