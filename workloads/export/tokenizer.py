"""The tokenizer files of the 256-byte vocabulary, written without the ``tokenizers`` package.

Our model reads UTF-8 bytes: token ``i`` is byte ``i``, with nothing added and no special token. In
Hugging Face's ``tokenizer.json`` format that is GPT-2's byte-level BPE with no merges: the ``ByteLevel``
pre-tokenizer maps each byte to one printable character (GPT-2's ``bytes_to_unicode`` table), the BPE
vocabulary gives each of those 256 characters its byte's value as id, and the ``ByteLevel`` decoder maps
them back to bytes and decodes UTF-8, an invalid sequence becoming U+FFFD as ``workloads.model.decode``
does. No normalizer (text is not NFC-normalised: the bytes are the bytes) and no regex split (with no
merges it could only cost time). ``tests/workloads/test_export_handoff.py`` loads these files with
``tokenizers`` and with transformers' ``AutoTokenizer`` and checks both against ``encode`` and ``decode``.
"""

from __future__ import annotations

import json
from typing import Any

from workloads.model import VOCAB_SIZE

# transformers' fast tokenizer class that reads tokenizer.json alone (an alias of TokenizersBackend in 5.x).
TOKENIZER_CLASS = "PreTrainedTokenizerFast"


def byte_characters() -> list[str]:
    """GPT-2's ``bytes_to_unicode``: the character standing for each byte, indexed by the byte.

    Printable Latin-1 bytes stand for themselves; the 68 others (controls, space, NBSP, soft hyphen) take
    the code points from 256 up, in byte order.
    """
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    characters: dict[int, str] = {byte: chr(byte) for byte in printable}
    extra = 0
    for byte in range(VOCAB_SIZE):
        if byte not in characters:
            characters[byte] = chr(VOCAB_SIZE + extra)
            extra += 1
    return [characters[byte] for byte in range(VOCAB_SIZE)]


def tokenizer_json() -> dict[str, Any]:
    """``tokenizer.json``: the ``tokenizers`` serialization (format 1.0) of the byte vocabulary."""
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": None,
        "decoder": byte_level,
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": {character: byte for byte, character in enumerate(byte_characters())},
            "merges": [],
        },
    }


def tokenizer_config_json(seq_len: int) -> dict[str, Any]:
    """``tokenizer_config.json``: which class reads ``tokenizer.json``, the context, no special tokens."""
    return {
        "tokenizer_class": TOKENIZER_CLASS,
        "model_max_length": seq_len,
        # transformers' clean-up would delete the spaces before punctuation the model wrote.
        "clean_up_tokenization_spaces": False,
        "add_bos_token": False,
        "add_eos_token": False,
        "added_tokens_decoder": {},
        "model_input_names": ["input_ids", "attention_mask"],
    }


def dumps(document: dict[str, Any]) -> bytes:
    """A JSON file as the Hugging Face tools write theirs: UTF-8, the characters themselves, not escapes."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
