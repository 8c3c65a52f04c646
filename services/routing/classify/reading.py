"""A letter as the classifier reads it: normalised, title apart, words found by segmentation.

Cue words are matched as words, not substrings: 代开 does not occur in 年代开始 (年代|开始),
and a cue in the title, where writers say what the letter is (投诉…, 举报…, 咨询…), can weigh
more than the same word deep in the body. Quoted speech (“…”) is the writer reporting what
someone else said; the not-accepted grounds do not read it.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Collection
from dataclasses import dataclass

from services.routing.classify.matching import NO_MATCH, CueMatch, CueTable
from services.routing.classify.segmentation import tokens_with_offsets
from services.routing.classify.variants import simplified

# How many characters a segmented word may hold around a cue and still be that cue with an
# affix (投诉人, 举报信, 被骗): 连锁反应 is not 连锁, 无证件 is not 无证.
AFFIX_CHARS = 1
_QUOTED = re.compile(r"“[^”]{0,200}”|「[^」]{0,200}」|『[^』]{0,200}』|\"[^\"\n]{0,200}\"")
_CACHED = 256


@dataclass(frozen=True, slots=True)
class LetterText:
    """Title and body joined by a newline, normalised and simplified, with word boundaries."""

    text: str
    title_lead: int  # cues starting before this offset stand at the head of the title
    starts: tuple[int, ...]  # start offset of every segmented token, ascending
    quoted: tuple[tuple[int, int], ...]

    def _token(self, position: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, position) - 1
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
        return self.starts[index], end

    def is_word_at(self, start: int, end: int) -> bool:
        """Whether text[start:end] stands as a word (or a word with a one-character affix)."""
        first, last = self._token(start), self._token(end - 1)
        if first[0] == start and last[1] == end:
            return True
        if first != last:
            return False  # crosses a word boundary: 年|代开|始
        return (first[0] == start or first[1] == end) and (
            first[1] - first[0] - (end - start) <= AFFIX_CHARS
        )

    def in_quotes(self, start: int) -> bool:
        """Whether the offset lies inside quoted speech."""
        return any(a <= start < b for a, b in self.quoted)

    def weight_of(
        self,
        word: str,
        *,
        title_weight: float = 1.0,
        skip_quoted: bool = False,
        anywhere: bool = False,
    ) -> float:
        """How much an occurrence of `word` counts: 0 if it never stands as a word (or, with
        `anywhere`, never occurs), the title's weight if it does so at the head of the title."""
        best = 0.0
        start = self.text.find(word)
        while start >= 0:
            end = start + len(word)
            quoted = skip_quoted and self.in_quotes(start)
            if (anywhere or self.is_word_at(start, end)) and not quoted:
                best = max(best, title_weight if start < self.title_lead else 1.0)
                if best >= title_weight:
                    break
            start = self.text.find(word, start + 1)
        return best


@functools.lru_cache(maxsize=_CACHED)
def read_letter(title: str, body: str, *, title_lead_chars: int = 0) -> LetterText:
    """Segment the already normalised `title` and `body`; cached, as scope and competence
    read the same letter several times. A cue starting within the title's first
    `title_lead_chars` characters (all of it when 0) stands at its head: 投诉…, 关于请求….
    """
    text = simplified(f"{title}\n{body}" if title else body)
    starts = tuple(start for start, _ in tokens_with_offsets(text)) or (0,)
    if starts[0] != 0:
        starts = (0, *starts)
    quoted = tuple((m.start(), m.end()) for m in _QUOTED.finditer(text))
    return LetterText(
        text=text,
        title_lead=min(title_lead_chars or len(title), len(title)),
        starts=starts,
        quoted=quoted,
    )


def match_words(
    table: CueTable,
    letter: LetterText,
    *,
    title_weight: float = 1.0,
    skip_quoted: bool = False,
    names: Collection[str] = (),
) -> CueMatch:
    """Sum the weights of the table's words that stand as words in the letter, each once, a
    word at the head of the title multiplied by `title_weight`; a word inside a longer found
    word is not counted again (无证经营 found: 无证 adds nothing). `names` (of departments:
    公安部门, 教委的) count wherever they occur: a name is specific enough as it stands."""
    found: list[tuple[str, float]] = []
    for word, weight in table.words:
        if word not in letter.text or any(word in longer for longer, _ in found):
            continue
        where = letter.weight_of(
            word, title_weight=title_weight, skip_quoted=skip_quoted, anywhere=word in names
        )
        if where > 0:
            found.append((word, weight * where))
    if not found:
        return NO_MATCH
    return CueMatch(score=sum(weight for _, weight in found), words=tuple(w for w, _ in found))
