"""The tiny models' tokenizers, built in milliseconds and the same on every rebuild.

A BERT-style WordPiece and a T5-style Unigram over the common words of the start of the emotion
training set. Only `tokenizers` (no torch), so the TensorFlow environment builds its tiny test
checkpoints with the same vocabulary as the PyTorch ones.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter

from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram, WordPiece

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.replier import build_prompt
from machbot_train.data import default_data_dir
from machbot_train.replier_tokenizer import EOS, EOS_ID, SPECIAL_TOKENS, UNK_ID

CORPUS_LINES = 300
WORDPIECE_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_WORD = re.compile(r"\w+|[^\w\s]")
_BASE_CHARS = string.ascii_lowercase + string.digits + string.punctuation

# Used only where the emotion data is not beside the checkout (e.g. a bare CI checkout).
FALLBACK_CORPUS = (
    "i feel so happy today",
    "i am sad and lonely",
    "i love you so much",
    "this makes me angry",
    "i am scared of the dark",
    "wow i did not expect that",
    "i feel like crying",
    "what a lovely surprise",
    "i feel nervous about tomorrow",
    "that was really annoying",
    "i am grateful for my friends",
)


def tiny_corpus(lines: int = CORPUS_LINES) -> list[str]:
    """The first `lines` texts of the emotion training set (a fixed list when the data is absent)."""
    path = default_data_dir() / "emotion" / "train.txt"
    if not path.is_file():
        return list(FALLBACK_CORPUS)
    with path.open(encoding="utf-8") as fh:
        texts = [line.rpartition(";")[0] for _, line in zip(range(lines), fh, strict=False)]
    return [t for t in texts if t] + list(EMOTIONS)


def _word_counts(texts: list[str]) -> list[tuple[str, int]]:
    """Words and punctuation marks by falling frequency, ties alphabetical (a fixed order)."""
    counts = Counter(w for t in texts for w in _WORD.findall(t.lower()))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def tiny_wordpiece(vocab_size: int = 400) -> Tokenizer:
    """A BERT-style uncased WordPiece tokenizer ([CLS] text [SEP], [PAD] = 0) over the corpus's common words.

    The vocabulary is chosen here, not by a tokenizers trainer, because the trainers break ties in
    hash order and would make every rebuild different.
    """
    chars = sorted(set(_BASE_CHARS) | {c for t in tiny_corpus() for c in t.lower() if not c.isspace()})
    vocab = list(WORDPIECE_SPECIALS) + chars + [f"##{c}" for c in chars]
    words = [w for w, _ in _word_counts(tiny_corpus()) if len(w) > 1]
    vocab += words[: max(0, vocab_size - len(vocab))]
    tok = Tokenizer(WordPiece({piece: i for i, piece in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.add_special_tokens(list(WORDPIECE_SPECIALS))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    return tok


def tiny_unigram(vocab_size: int = 400) -> Tokenizer:
    """A T5-style Unigram tokenizer (<pad>=0, </s>=1, <unk>=2): every character, then the common words.

    Scores are log frequencies, so segmentation prefers whole words; built directly (not trained)
    so that it is the same on every rebuild.
    """
    prompts = [build_prompt(EMOTIONS[i % len(EMOTIONS)], [], t) for i, t in enumerate(tiny_corpus())]
    chars = sorted(set(_BASE_CHARS) | {c for t in prompts for c in t.lower() if not c.isspace()})
    words = _word_counts(prompts)
    total = sum(n for _, n in words) + len(chars)
    pieces = [(t, 0.0) for t in SPECIAL_TOKENS] + [("▁", math.log(1 / total))]
    pieces += [(c, math.log(1 / total) - 1) for c in chars]
    pieces += [(f"▁{w}", math.log(n / total)) for w, n in words[: max(0, vocab_size - len(pieces))]]
    tok = Tokenizer(Unigram(pieces, unk_id=UNK_ID))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.add_special_tokens(list(SPECIAL_TOKENS))  # so decode(skip_special_tokens=True) drops them
    tok.post_processor = processors.TemplateProcessing(single=f"$A {EOS}", special_tokens=[(EOS, EOS_ID)])
    return tok
