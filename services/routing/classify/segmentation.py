"""Chinese word segmentation (jieba): imported with this module, its dictionary loaded on
first use, kept quiet.

Used for letter similarity and for the search tokens the routing service stores in an
indexed array (MongoDB's text index does not segment Chinese; FerretDB v1 has none).
"""

from __future__ import annotations

import logging
import threading
import unicodedata
import warnings
from typing import Any

# jieba's source has invalid escape sequences: compiling it without cached bytecode warns,
# and a warnings-as-errors run turns that into a SyntaxError. Imported here, on the thread
# importing this module, not on first use: `catch_warnings` swaps the process-wide filter
# list, and swapping it in the warm-up's worker thread undid FastAPI's own `catch_warnings`
# on the event loop's thread.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    import jieba

_lock = threading.Lock()
_tokenizer: Any = None

# Words too common in letters to narrow a search.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 也 都 就 而 但 又 把 被 让 给 对 从 向 到 为 以 于 之 其 这 那 "
    "这个 那个 一个 我 你 您 他 她 它 我们 你们 他们 她们 自己 有 没有 不 没 很 还 再 吗 呢 吧 啊 "
    "呀 哦 嗯 么 着 过 等 等等 能 会 要 想 请 您好 你好 谢谢 尊敬 领导".split()
)


def _jieba() -> Any:
    """The default jieba tokenizer, its dictionary loaded once (about a second, the first time)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                # jieba announces its dictionary loading at DEBUG/INFO on its own logger.
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _tokenizer = jieba.dt
    return _tokenizer


def _is_word(token: str) -> bool:
    return any(unicodedata.category(char)[0] in "LN" for char in token)


def segment(text: str) -> list[str]:
    """Words of `text` in order (jieba's accurate mode), without spaces and punctuation."""
    return [token for token in _jieba().lcut(text) if _is_word(token)]


def tokens_with_offsets(text: str) -> list[tuple[int, int]]:
    """(start, end) of every token of `text` in order, punctuation and spaces included, so the
    tokens tile the text: where words begin and end, for matching cue words as words."""
    return [(start, end) for _, start, end in _jieba().tokenize(text)]


def tokens_for_search(text: str) -> list[str]:
    """Distinct search tokens of `text`: jieba's search mode, no punctuation or stopwords,
    ASCII lower-cased, in first-seen order."""
    normalised = unicodedata.normalize("NFKC", text)
    seen: dict[str, None] = {}
    for raw in _jieba().cut_for_search(normalised):
        token = raw.strip()
        if token.isascii():
            token = token.lower()
        if token and _is_word(token) and token not in STOPWORDS:
            seen.setdefault(token, None)
    return list(seen)
