"""Tiny random models, built in seconds: test fixtures and the untrained placeholders of the local stack.

Each is a real model of its architecture (2 layers, hidden 32) with a real tokenizer (a few hundred
pieces trained with `tokenizers` on the start of the emotion training set), exported through the
same ONNX + int8 path as the trained models. Seeded, so a rebuild gives the same weights; the
manifest says `trained: false` and the display name "(untrained)". Their outputs mean nothing.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram, WordPiece
from transformers import AutoModelForSequenceClassification, T5ForConditionalGeneration

from machbot_fn.labels import EMOTIONS, REPLIER_ID
from machbot_fn.replier import build_prompt
from machbot_train.bundle import package_classifier, package_replier
from machbot_train.data import default_data_dir
from machbot_train.random_configs import CLASSIFIER_ARCHS, random_config, t5_config
from machbot_train.replier_tokenizer import EOS, EOS_ID, SPECIAL_TOKENS, UNK_ID
from machbot_train.version_dir import created_timestamp, framework_versions

SEED = 1234
TINY_VERSION = "tiny-1"
CORPUS_LINES = 300
WORDPIECE_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
TINY_MAX_NEW_TOKENS = 12
_WORD = re.compile(r"\w+|[^\w\s]")
_BASE_CHARS = string.ascii_lowercase + string.digits + string.punctuation

# Used only where the emotion data is not beside the checkout (e.g. a bare CI checkout).
_FALLBACK_CORPUS = (
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
        return list(_FALLBACK_CORPUS)
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


def _tiny_provenance(what: str) -> dict:
    return {
        "init": f"random initialisation, tiny {what} configuration (seed {SEED}); untrained placeholder",
        "data": "none (untrained); tokenizer trained on the first lines of the CARER emotion training set",
        "created": created_timestamp(),
        "frameworks": framework_versions(),
    }


def tiny_classifier_model(arch: str, vocab_size: int) -> torch.nn.Module:
    if arch not in CLASSIFIER_ARCHS:
        raise ValueError(f"unknown classifier architecture {arch!r}; expected one of {', '.join(CLASSIFIER_ARCHS)}")
    torch.manual_seed(SEED)
    config = random_config(
        arch,
        None,
        size="tiny",
        vocab_size=vocab_size,
        pad_token_id=0,
        num_labels=len(EMOTIONS),
        id2label=dict(enumerate(EMOTIONS)),
        label2id={label: i for i, label in enumerate(EMOTIONS)},
    )
    return AutoModelForSequenceClassification.from_config(config).eval()


def tiny_replier_model(vocab_size: int) -> T5ForConditionalGeneration:
    torch.manual_seed(SEED)
    return T5ForConditionalGeneration(t5_config(vocab_size, "tiny")).eval()


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


def build_tiny_classifier(
    out_dir: Path,
    model_id: str,
    arch: str,
    version: str = TINY_VERSION,
    *,
    overwrite: bool = True,
    current: bool = False,
    fp32_path: Path | None = None,
) -> Path:
    """An untrained tiny `arch` classifier as `out_dir/<model_id>/<version>/`; returns that directory."""
    tokenizer = tiny_wordpiece()
    model = tiny_classifier_model(arch, tokenizer.get_vocab_size())
    return package_classifier(
        model,
        tokenizer,
        out_dir,
        model_id,
        version,
        trained=False,
        provenance=_tiny_provenance(arch),
        overwrite=overwrite,
        current=current,
        fp32_path=fp32_path,
    )


def build_tiny_replier(
    out_dir: Path,
    version: str = TINY_VERSION,
    *,
    model_id: str = REPLIER_ID,
    overwrite: bool = True,
    current: bool = False,
    fp32_dir: Path | None = None,
) -> Path:
    """An untrained tiny T5 replier as `out_dir/<model_id>/<version>/`; returns that directory."""
    tokenizer = tiny_unigram()
    model = tiny_replier_model(tokenizer.get_vocab_size())
    return package_replier(
        model,
        tokenizer,
        out_dir,
        version,
        trained=False,
        provenance=_tiny_provenance("T5"),
        model_id=model_id,
        max_new_tokens=TINY_MAX_NEW_TOKENS,
        overwrite=overwrite,
        current=current,
        fp32_dir=fp32_dir,
    )
