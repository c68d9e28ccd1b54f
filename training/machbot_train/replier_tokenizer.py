"""A T5-style Unigram tokenizer trained on the dialogue text with the `tokenizers` library.

Special tokens follow T5: <pad>=0 (also the decoder start), </s>=1 (appended to every encoding),
<unk>=2. Text is NFKC-normalised and lower-cased (the dialogue data is lower-case), so what a user
types in capitals still maps onto known pieces.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram
from tokenizers.trainers import UnigramTrainer

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
SPECIAL_TOKENS = (PAD, EOS, UNK)
PAD_ID, EOS_ID, UNK_ID = 0, 1, 2


def _empty_unigram() -> Tokenizer:
    tok = Tokenizer(Unigram())
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace("\u2019", "'"), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    return tok


def _finish(tok: Tokenizer) -> Tokenizer:
    ids = [tok.token_to_id(t) for t in SPECIAL_TOKENS]
    if ids != [PAD_ID, EOS_ID, UNK_ID]:
        raise RuntimeError(f"special tokens landed at {ids}, expected {[PAD_ID, EOS_ID, UNK_ID]}")
    tok.post_processor = processors.TemplateProcessing(single=f"$A {EOS}", special_tokens=[(EOS, EOS_ID)])
    return tok


def train_unigram(texts: Iterable[str], vocab_size: int = 8000) -> Tokenizer:
    """Train on `texts`; the vocabulary may come out smaller than `vocab_size` on a small corpus."""
    tok = _empty_unigram()
    trainer = UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        unk_token=UNK,
        show_progress=False,
        max_piece_length=16,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return _finish(tok)
