"""Keywords of case descriptions: jieba's TF-IDF, minus the words every report has.

Without a stop-word list the top words are 几天, 满了, 反映 — how people write, not what
about. stopwords.txt lists such words (one a line); a word is also dropped when it is
a single character or a number.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

STOPWORDS_FILE = Path(__file__).with_name("stopwords.txt")


@cache
def stopwords() -> frozenset[str]:
    lines = STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def useful(word: str) -> bool:
    return len(word) >= 2 and not word.isdigit() and word not in stopwords()


def top_words(texts: list[str], top: int = 30) -> list[tuple[str, float]]:
    if not texts:
        return []
    import jieba.analyse

    found = jieba.analyse.extract_tags("\n".join(texts), topK=top * 3, withWeight=True)
    return [(word, weight) for word, weight in found if useful(word)][:top]
