"""Index terms: what a passage and a question are matched on, the same for both.

Korean writes a word and its particles or endings together ("서울에서", "서울은"), so whole words
rarely match. Each run of Hangul (and of CJK ideographs or kana) becomes its character bigrams
("서울에서" -> 서울 울에 에서), and a one-character run its single character: "서울은" and
"서울에서" share 서울. Other words (Latin, digits, Cyrillic...) are lowercased and lightly stemmed
("migrations", "migrated" -> migrat). Words and bigrams that say nothing (English stop words,
Korean endings such as 니다 or 에서) are dropped on both sides: they would match nearly every
passage and only slow the search. Nothing here needs a dictionary, a model or the network.
"""

import re
from collections.abc import Iterable

from core.tokens import estimate_tokens  # noqa: F401 (the one rule, re-exported for the knowledge app)

# Hangul syllables and letters, CJK ideographs, hiragana and katakana: written without spaces
# between words.
_CJK = "\uac00-\ud7a3\u3131-\u318e\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")

ENGLISH_STOP = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers him his how i if in into is it its itself just me more most my
    no nor not now of off on once only or other our ours out over own same she should so some such
    than that the their theirs them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    tell please give explain describe say said""".split()
)
# Endings, particles and question words: in nearly every Korean sentence, so they rank nothing.
KOREAN_STOP = frozenset(
    """니다 습니 합니 입니 있습 었습 였습 됩니 했습 있다 없다 었다 였다 했다 한다 된다 이다 하는 하고 하여
    해서 되어 되었 에서 으로 에게 에는 에도 까지 부터 처럼 보다 이나 거나 지만 는데 은데 면서 니까 는지 은지
    인지 나요 까요 가요 어요 아요 세요 해요 인가 는가 무엇 엇인 엇을 엇이 어디 언제 어떤 어떻 떻게 얼마 누구
    누가 엇입 대해 관해 있나 었나 였나 했나 었는 였는 했는 하나 무슨 알려 려줘 려주 주세 줘요""".split()
)

_SUFFIXES = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("ities", ""),
    ("ity", ""),
    ("ments", ""),
    ("ment", ""),
    ("nesses", ""),
    ("ness", ""),
    ("ingly", ""),
    ("ings", ""),
    ("ing", ""),
    ("edly", ""),
    ("sses", "ss"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("xes", "x"),
    ("ies", "y"),
    ("ied", "y"),
    ("ed", ""),
    ("ly", ""),
    ("s", ""),
)


def stem(word: str) -> str:
    """A light English stemmer (one suffix, as Porter's first steps): enough for plurals, tenses
    and -ation/-ment nouns; a non-ASCII or short word is kept as it is."""
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix):
            base = word[: -len(suffix)]
            if len(base) + len(replacement) < 3 or (suffix == "s" and word.endswith(("ss", "us", "is"))):
                continue
            word = base + replacement
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz" and word[-1] not in "aeiou":
                word = word[:-1]  # running -> runn -> run
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]  # migrate, migrated, migration -> migrat
    return word


def _tokens(text: str) -> Iterable[str]:
    for cjk, word in _RUNS.findall(text.lower()):
        if cjk:
            if len(cjk) == 1:
                yield cjk
            else:
                for i in range(len(cjk) - 1):
                    bigram = cjk[i : i + 2]
                    if bigram not in KOREAN_STOP:
                        yield bigram
        elif word not in ENGLISH_STOP and len(word) < 40:
            yield stem(word)


def index_terms(text: str) -> str:
    """The passage's terms, space-separated, in order (repeats kept: they are term frequencies)."""
    return " ".join(_tokens(text))


def query_terms(text: str) -> list[str]:
    """A question's distinct terms, in order."""
    return list(dict.fromkeys(_tokens(text)))
