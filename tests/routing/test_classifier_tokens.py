"""Search tokens for Chinese text (jieba's search mode)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from services.routing.classify.segmentation import STOPWORDS, segment, tokens_for_search

pytestmark = pytest.mark.unit  # needs no server


def test_search_tokens_include_the_parts_of_long_words() -> None:
    tokens = tokens_for_search("中华人民共和国商务部的出口信用保险")

    assert {"中华人民共和国", "共和国", "商务部", "商务", "出口", "保险"} <= set(tokens)
    assert "的" not in tokens


def test_a_query_and_a_letter_give_the_same_tokens_for_the_same_words() -> None:
    letter = set(tokens_for_search("单用途商业预付卡的商家跑路了，钱无法退还"))

    assert set(tokens_for_search("预付卡 跑路")) <= letter


def test_search_tokens_are_distinct_and_clean() -> None:
    tokens = tokens_for_search("我们的ＡＰＰ，我们的APP！！  预付卡、预付卡。")

    assert len(tokens) == len(set(tokens))
    assert "app" in tokens
    assert "APP" not in tokens
    assert not STOPWORDS & set(tokens)
    assert all(any(char.isalnum() for char in token) for token in tokens)


def test_nothing_but_punctuation_gives_no_tokens() -> None:
    assert tokens_for_search("，。！？…… ") == []
    assert tokens_for_search("") == []


def test_segment_keeps_order_and_drops_punctuation() -> None:
    words = segment("商家跑路，预付卡无法退还。")

    assert "".join(words) == "商家跑路预付卡无法退还"


def test_the_first_use_in_a_worker_thread_leaves_the_warning_filters_alone() -> None:
    # The routing app warms jieba up in a worker thread. `catch_warnings` there swapped the
    # process-wide filter list under FastAPI's own `catch_warnings` on the loop's thread, so
    # a warning FastAPI silences came through (an error in a warnings-as-errors test run).
    script = textwrap.dedent(
        """
        import threading, warnings
        from services.routing.classify import segmentation as tokens
        swaps = []
        real = warnings.catch_warnings
        warnings.catch_warnings = lambda *a, **k: (swaps.append(1), real(*a, **k))[1]
        worker = threading.Thread(target=tokens.tokens_for_search, args=("预热",))
        worker.start()
        worker.join()
        assert tokens._tokenizer is not None, "the thread did not load jieba"
        print(len(swaps))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
