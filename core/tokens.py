"""How many tokens a text will take, estimated without the model's tokenizer: the one rule every
budget (the history sent, the passages chosen for a reply, a request's prompt size) is counted by.

ASCII text is about four characters per token in every common tokenizer. Other text is counted as
its UTF-8 bytes: a byte-level BPE tokenizer without merges for a script spends up to a token per
byte, and SmolLM2 (the model shipped) spends three tokens on a Hangul syllable (three bytes).
Tokenizers trained on Korean spend fewer, so for them this only leaves room unused; counting a
syllable as one token sent prompts three times too long to a 2,048-token model, which failed.
"""


def estimate_tokens(text: str) -> int:
    """A conservative token count of ``text`` (never less than one)."""
    ascii_chars = sum(1 for char in text if char < "\x80")
    other_bytes = len(text.encode("utf-8", "surrogatepass")) - ascii_chars
    return ascii_chars // 4 + other_bytes + 1
