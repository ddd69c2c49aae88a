"""Suggest a category from what a resident types: jieba words matched against keywords.

Each active 小类 has space-separated `keywords` (the words residents use: 垃圾桶, 满了,
臭 …). The text is cut with jieba (search mode, so 垃圾桶 also yields 垃圾); a keyword
that is one of the words scores 2, one that only appears inside the text scores 1,
and the category's own name in the text scores 3. The best few categories come back.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from linge.cases.models import Category

MAX_TEXT = 500
_jieba_lock = threading.Lock()
_known_words: set[str] = set()


@dataclass(frozen=True)
class Suggestion:
    category_id: int
    code: str
    name: str
    parent_name: str
    score: int


def _words(text: str, keywords: set[str]) -> set[str]:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _jieba_lock:
        for word in keywords - _known_words:
            jieba.add_word(word)
            _known_words.add(word)
        return {word.strip() for word in jieba.lcut_for_search(text) if word.strip()}


def suggest(text: str, limit: int = 3) -> list[Suggestion]:
    """The categories that best match `text`, best first; empty when nothing matches."""
    text = (text or "").strip()[:MAX_TEXT]
    if not text:
        return []
    leaves = list(
        Category.objects.filter(active=True, parent__isnull=False, parent__active=True)
        .select_related("parent")
    )
    keywords_of = {c.pk: {k for k in c.keywords.split() if k} for c in leaves}
    words = _words(text, set().union(*keywords_of.values()) if keywords_of else set())
    found: list[Suggestion] = []
    for category in leaves:
        score = 3 if category.name in text else 0
        for keyword in keywords_of[category.pk]:
            if keyword in words:
                score += 2
            elif keyword in text:
                score += 1
        if score:
            found.append(Suggestion(category.pk, category.code, category.name,
                                    category.parent.name, score))
    found.sort(key=lambda s: (-s.score, s.code))
    return found[:limit]
