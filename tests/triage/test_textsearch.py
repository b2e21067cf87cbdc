"""Tokenising Chinese with jieba and English by words; matching rule terms."""

from __future__ import annotations

import threading

import pytest

from complaints import textsearch
from complaints.textsearch import contains_term, tokens


def test_mixed_chinese_and_english_text_is_tokenised():
    result = tokens("电水壶底座冒烟了，还有焦味! The Kettle DOESN'T work (model X1000), 打12315")

    assert result == [
        "电水壶",
        "底座",
        "冒烟",
        "了",
        "还有",
        "焦味",
        "the",
        "kettle",
        "doesn't",
        "work",
        "model",
        "x1000",
        "打",
        "12315",
    ]


def test_full_width_letters_and_digits_read_as_ascii():
    assert tokens("ＦＩＲＥ １２３１５") == ["fire", "12315"]


def test_text_without_chinese_does_not_need_jieba(monkeypatch):
    def refuse():
        raise AssertionError("jieba loaded for Latin text")

    monkeypatch.setattr(textsearch, "_tokenizer", None)
    monkeypatch.setattr(textsearch, "_load", refuse)

    assert tokens("Parcel never arrived!") == ["parcel", "never", "arrived"]


def test_user_words_are_kept_whole():
    # A made-up brand that jieba splits by itself, so adding it must change the result.
    assert "酷炫霸牌" not in tokens("我买的酷炫霸牌水壶坏了")

    textsearch.add_words(["酷炫霸牌", "fire"])

    assert "酷炫霸牌" in tokens("我买的酷炫霸牌水壶坏了")
    assert "fire" not in textsearch._user_words  # only Chinese words go to jieba


def test_jieba_dictionary_is_loaded_once_per_process(monkeypatch):
    calls = []
    real_load = textsearch._load

    def counting_load():
        calls.append(1)
        return real_load()

    monkeypatch.setattr(textsearch, "_tokenizer", None)
    monkeypatch.setattr(textsearch, "_load", counting_load)

    tokens("电水壶冒烟了")
    tokens("我要打12315投诉你们")

    assert calls == [1]


def test_threads_starting_together_load_jieba_once(monkeypatch):
    calls = []
    real_load = textsearch._load
    start = threading.Barrier(6)

    def counting_load():
        calls.append(1)
        return real_load()

    monkeypatch.setattr(textsearch, "_tokenizer", None)
    monkeypatch.setattr(textsearch, "_load", counting_load)
    results = []

    def work():
        start.wait()
        results.append(tokens("快递三天没收到"))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert calls == [1]
    assert len(results) == 6 and all(r == results[0] for r in results)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("电水壶底座冒烟了", "冒烟"),
        ("底座冒烟了", "座冒"),  # jieba splits it differently: still a substring
        ("冒 烟了", "冒烟"),  # spaces inside Chinese are ignored
        ("我要打12315投诉", "12315"),
        ("我要打１２３１５投诉", "12315"),
        ("There was a FIRE!", "fire"),
        ("fire-damaged", "fire"),
        ("It's not   working at all", "not working"),
        ("not-working", "not working"),
        ("My son was injured", "injur*"),
        ("a serious injury", "injur*"),
        ("Parcel never arrived.", "never arrived"),
        ("electric shock from the plug", "Electric Shock"),
    ],
)
def test_terms_that_match(text, term):
    assert contains_term(text, None, term)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("The firewall blocks it", "fire"),
        ("I was fired up about it", "fire"),
        ("it is not really working", "not working"),
        ("call 123156", "12315"),
        ("电水壶坏了", "冒烟"),
        ("an injection", "injur*"),
        ("", "fire"),
        ("fire", ""),
    ],
)
def test_terms_that_do_not_match(text, term):
    assert not contains_term(text, None, term)


def test_a_chinese_term_may_also_match_a_token():
    assert contains_term("", ["冒烟"], "冒烟")
