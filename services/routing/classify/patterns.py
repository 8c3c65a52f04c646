"""Filler patterns as linear-time regular expressions (RE2), written as Python's `re` reads them.

Python's `re` backtracks: an office head's `(a+a+)+b` against 24 × `a` froze routing for
seconds (`/healthz` too: `re` holds the GIL), and 30 characters take minutes. RE2 matches
in time linear in the text whatever the pattern, and refuses what would need backtracking
(backreferences, lookaround), so a rule set is safe by construction: checked when saved,
compiled the same way when applied.

The office keeps writing patterns as before: RE2's `\\d`, `\\w`, `\\s` are ASCII-only, so
they (and their negations) are rewritten to the Unicode classes Python means by them, and
`\\uXXXX` to RE2's `\\x{XXXX}`. `\\b`/`\\B` are refused: RE2's word boundary is ASCII-only
and would silently mean something else in Chinese text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import re2

# Python's `\w`: letters, numbers and the underscore (str.isalnum() or "_").
_WORD = r"\p{L}\p{N}_"
# Python's `\s`: str.isspace(); RE2's `\s` is only [\t\n\f\r ].
_SPACE = r"\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}"
_OUTSIDE = {
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
    "Z": r"\z",
}
_INSIDE = {"d": r"\p{Nd}", "D": r"\P{Nd}", "w": _WORD, "s": _SPACE, "b": r"\x{08}"}
_HEX_DIGITS = {"u": 4, "U": 8}


class PatternRefused(ValueError):
    """A pattern RE2 cannot run in linear time, or that would change meaning under RE2."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # refusals are answered to the client, not logged to stderr
    return options


def to_re2(pattern: str) -> str:
    """The pattern in RE2's syntax, with Python's Unicode meaning of the class escapes."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            i += 2
            if escaped in _HEX_DIGITS:
                digits = pattern[i : i + _HEX_DIGITS[escaped]]
                if len(digits) != _HEX_DIGITS[escaped] or not all(
                    d in "0123456789abcdefABCDEF" for d in digits
                ):
                    raise PatternRefused(f"\\{escaped} needs {_HEX_DIGITS[escaped]} hex digits")
                out.append(f"\\x{{{digits}}}")
                i += len(digits)
            elif in_class and escaped in _INSIDE:
                out.append(_INSIDE[escaped])
            elif in_class and escaped in "WS":
                raise PatternRefused(f"\\{escaped} inside [...]: write a negated class [^...]")
            elif not in_class and escaped in _OUTSIDE:
                out.append(_OUTSIDE[escaped])
            elif not in_class and escaped in "bB":
                raise PatternRefused(f"\\{escaped}: word boundaries do not apply to Chinese text")
            else:
                out.append(char + escaped)  # RE2 itself refuses what it does not know (\1)
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            out.append(char)
            i += 1
            # A `]` right after `[` or `[^` is a literal one, in Python as in RE2.
            if pattern[i : i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i : i + 1] == "]":
                out.append("]")
                i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _compile(pattern: str) -> Any:
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        raise PatternRefused(text) from None


def check_pattern(pattern: str) -> str:
    """The pattern, if RE2 runs it (in linear time); `PatternRefused` saying why otherwise."""
    _compile(to_re2(pattern))
    return pattern


@dataclass(frozen=True, eq=False)
class Filler:
    """Clauses to drop: any of the office's patterns matching the whole clause."""

    _regexp: Any

    def fullmatch(self, text: str) -> bool:
        """Whether one of the patterns matches the whole text."""
        return self._regexp.fullmatch(text) is not None


def compile_filler(patterns: Sequence[str]) -> Filler | None:
    """One RE2 alternation of every pattern, or None without patterns."""
    if not patterns:
        return None
    return Filler(_compile("|".join(f"(?:{to_re2(pattern)})" for pattern in patterns)))
