"""The DNABERT-S BPE tokenizer, read from the model's `tokenizer.json` with the `tokenizers` library.

The file stores right truncation and FIXED padding to 2000 tokens; the reference call path switched
both off (one sequence at a time, no padding), so they are switched off here too.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer

from virnucpro.errors import InputError

# Special tokens the DNABERT-2 family defines; the ids are read from the file, never assumed.
SPECIAL_TOKENS = ("[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]")


class DnabertTokenizer:
    """Turns one nucleotide sequence into `[CLS] <BPE tokens> [SEP]` ids, exactly as the reference did.

    No normalizer runs: the vocabulary is upper-case A/C/G/T, so `N` or a lower-case letter becomes
    `[UNK]`. Callers upper-case sequences first (docs/contract.md, section 1).
    """

    def __init__(self, path: Path) -> None:
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as error:  # the Rust binding raises a bare Exception for every parse error
            raise InputError(f"{path}: not a readable tokenizers tokenizer.json ({error})") from error
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        special_ids = self._special_ids(tokenizer, path)  # every special token must be there
        self.cls_id = special_ids["[CLS]"]
        self.sep_id = special_ids["[SEP]"]
        self._check_template(path)

    @property
    def vocab_size(self) -> int:
        """Number of token ids, added special tokens included."""
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def encode(self, sequence: str) -> list[int]:
        """Token ids of one sequence with `[CLS]` first and `[SEP]` last; never truncated or padded."""
        return self._tokenizer.encode(sequence).ids

    @staticmethod
    def _special_ids(tokenizer: Tokenizer, path: Path) -> dict[str, int]:
        """Ids of the special tokens, or an error naming those the file lacks."""
        ids = {token: tokenizer.token_to_id(token) for token in SPECIAL_TOKENS}
        missing = [token for token, token_id in ids.items() if token_id is None]
        if missing:
            raise InputError(f"{path}: not a DNABERT-S tokenizer: no special token(s) {', '.join(missing)}")
        return {token: int(token_id) for token, token_id in ids.items() if token_id is not None}

    def _check_template(self, path: Path) -> None:
        """The post-processor must wrap a sequence as `[CLS] ... [SEP]`; the pooled mean depends on it."""
        empty = self.encode("")
        if empty != [self.cls_id, self.sep_id]:
            raise InputError(
                f"{path}: tokenizer does not add [CLS] and [SEP] around a sequence (an empty sequence gives "
                f"{empty}, expected [{self.cls_id}, {self.sep_id}])"
            )
