"""Tokenising and term matching for Chinese and English complaint text.

Chinese runs are segmented with jieba; Latin runs are split into lower-cased words;
digits are kept; punctuation and spaces are dropped. Text and terms are NFKC
normalised first, so full-width ｆｉｒｅ and １２３１５ read as fire and 12315.

jieba's dictionary takes 1–2 s to load: it is loaded once per process, on the first
call that needs it (never at import), under a lock so two threads starting at once
load it once. We use our own `jieba.Tokenizer` rather than jieba's global one, so
our user words do not change anybody else's segmentation.

Matching (`contains_term`):
- a term with Chinese characters matches as a substring of the text (robust when
  jieba splits it differently) or as a token;
- any other term matches whole words, case-insensitively: "fire" never matches
  "firewall"; a phrase ("not working") matches its words in sequence; a trailing
  "*" matches a word prefix ("injur*" matches "injured" and "injury").
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
import warnings
from collections.abc import Iterable
from typing import Any

# CJK ideographs (unified, extension A, compatibility, and the supplementary planes).
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_RE = re.compile(f"[{_CJK}]")
# One run of Chinese, or one Latin/digit word (with an inner apostrophe: don't, it's).
_RUN_RE = re.compile(f"([{_CJK}]+)|([a-z0-9]+(?:['’][a-z]+)*)")
_WORD_RE = re.compile(r"[a-z0-9]+(?:['’][a-z]+)*\*?")

_lock = threading.Lock()
_tokenizer: Any = None
# User words (Chinese rule terms): added once each, kept across a reload.
_user_words: set[str] = set()


def normalize(text: str) -> str:
    """NFKC (full-width to ASCII) and lower case: what every match compares."""
    return unicodedata.normalize("NFKC", text or "").lower()


def has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text or ""))


def _load() -> Any:
    """Import jieba and load its dictionary (slow: 1–2 s). Called once per process."""
    with warnings.catch_warnings():
        # jieba 0.42.1's regexes use invalid escapes: SyntaxWarning on Python 3.12
        # when its modules are compiled. Harmless.
        warnings.simplefilter("ignore", SyntaxWarning)
        import jieba

        # "Building prefix dict… Loading model cost…" is debug chatter on stderr.
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
    return tokenizer


def _get_tokenizer() -> Any:
    global _tokenizer
    tokenizer = _tokenizer
    if tokenizer is not None:
        return tokenizer
    with _lock:
        # Checked again under the lock: another thread may have loaded it meanwhile.
        if _tokenizer is None:
            tokenizer = _load()
            for word in sorted(_user_words):
                tokenizer.add_word(word)
            _tokenizer = tokenizer
        return _tokenizer


def is_loaded() -> bool:
    return _tokenizer is not None


def add_words(words: Iterable[str]) -> None:
    """Teach jieba these words (Chinese rule terms), each once per process.

    Does not load the dictionary: words given before the first tokenising are
    added when it loads.
    """
    new = {normalize(w).strip() for w in words}
    new = {w for w in new if w and has_cjk(w) and " " not in w} - _user_words
    if not new:
        return
    with _lock:
        new -= _user_words
        _user_words.update(new)
        if _tokenizer is not None:
            for word in sorted(new):
                _tokenizer.add_word(word)


def tokens(text: str) -> list[str]:
    """The words of `text`: jieba's segmentation of Chinese runs, lower-cased Latin
    words and digit runs, in order; punctuation and spaces dropped."""
    text = normalize(text)
    result: list[str] = []
    tokenizer = None
    for match in _RUN_RE.finditer(text):
        chinese, word = match.groups()
        if word is not None:
            result.append(word)
            continue
        if tokenizer is None:
            tokenizer = _get_tokenizer()
        result.extend(t for t in tokenizer.lcut(chinese) if t.strip())
    return result


@functools.lru_cache(maxsize=4096)
def _english_pattern(term: str) -> re.Pattern[str] | None:
    words = _WORD_RE.findall(term)
    if not words:
        return None
    parts = []
    for word in words:
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"[a-z0-9]*")
        else:
            parts.append(re.escape(word))
    # Words of a phrase may be separated by spaces, hyphens or underscores.
    body = r"[\s\-_]+".join(parts)
    # Our own word boundaries: \b would treat Chinese characters as word characters,
    # so "打12315" would not match "12315".
    return re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])")


class Document:
    """A text prepared once for matching many terms: normalised, without spaces (for
    Chinese substrings), and its tokens (segmented on first use)."""

    def __init__(self, text: str, tokens: Iterable[str] | None = None):
        self.text = normalize(text)
        self.compact = re.sub(r"\s+", "", self.text)
        self._tokens = list(tokens) if tokens is not None else None

    @property
    def tokens(self) -> list[str]:
        if self._tokens is None:
            # The module's tokens() (a method body does not see the class's names).
            self._tokens = tokens(self.text)
        return self._tokens

    def find(self, term: str) -> str | None:
        """The words of the text that match `term` (to show the agent), or None."""
        term = normalize(term).strip()
        if not term:
            return None
        if has_cjk(term):
            compact = re.sub(r"\s+", "", term)
            # A substring of the text (with or without its spaces) is enough; a token
            # is always a substring too, so the tokens are only consulted if given.
            if compact in self.compact:
                return compact
            if self._tokens is not None and compact in self._tokens:
                return compact
            return None
        pattern = _english_pattern(term)
        if pattern is None:
            return None
        match = pattern.search(self.text)
        return match.group(0) if match else None


def contains_term(text: str, tokens: Iterable[str] | None, term: str) -> bool:
    """Whether `term` occurs in `text` (see the module docstring for the rules).

    `tokens` are tokens(text) if already computed, or None.
    """
    return Document(text, tokens).find(term) is not None
