"""How many tokens a text will take, estimated without the model's tokenizer: the one rule every
budget (the history sent, the passages chosen for a reply, a request's prompt size) is counted by,
and what a count falls back to when the model's tokenizer cannot be asked (``conversations.llm.tokens``).

It is meant never to count less than a model's tokenizer on ordinary text, by script:

- non-ASCII text counts its UTF-8 bytes: a byte-level BPE tokenizer without merges for a script
  spends up to a token per byte. SmolLM2 (the model shipped) spends up to 3 tokens on a Hangul
  syllable (rare ones: their three bytes), fewer on common ones; on everyday Korean text this
  estimate is 1.06 times its count (measured on whole texts, spaces and punctuation included), and
  1.00 on rare syllables. Tokenizers trained on Korean (GPT-4o's, Qwen's: about one token a
  syllable) spend fewer, so for them this leaves room unused: a prompt is refused up to about three
  times earlier than the model would, never sent to fail. (Counting a syllable as one token sent
  prompts three times too long to a 2,048-token model, which failed.)
- a run of ASCII letters counts a token per four letters (started): English words are a token
  each, whatever their length up to four letters, where characters / 4 counted "a" as a quarter;
- each digit and each ASCII punctuation mark is a token (SmolLM2 splits numbers into digits);
- a single space is free (it joins the next word's token), other whitespace a token per four.

Against SmolLM2's own count this is 1.14 to 1.38 times it on this repository's English docs,
Python and JavaScript (characters / 4 gave 0.68 to 0.97: too few), 1.00 on hex and on "word word
...", 1.06 on Korean. What no estimate short of counting bytes covers: random mixed-case letters
(keys, base64) can cost a token a letter, four times this count; only the model's tokenizer knows.
"""

import re

_PIECES = re.compile(r"[A-Za-z]+|[^\x00-\x7f]+|\s+|[^\sA-Za-z]")


def estimate_tokens(text: str) -> int:
    """A conservative token count of ``text`` (never less than one)."""
    total = 1
    for match in _PIECES.finditer(text):
        piece = match.group()
        first = piece[0]
        if first >= "\x80":
            total += len(piece.encode("utf-8", "surrogatepass"))
        elif first.isalpha():
            total += (len(piece) + 3) // 4
        elif first.isspace():
            # A run of whitespace may hold non-ASCII spaces: they are bytes like other text.
            if piece != " ":
                total += (len(piece) + 3) // 4 + len(piece.encode("utf-8", "surrogatepass")) - len(piece)
        else:
            total += 1
    return total
