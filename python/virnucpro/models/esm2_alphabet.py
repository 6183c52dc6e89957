"""The ESM-1b alphabet that every ESM-2 checkpoint uses, and protein tokenization with it.

Token order is fair-esm's `Alphabet.from_architecture("ESM-1b")`: four specials, the residue letters,
padding to a multiple of 8, then `<mask>`. Special ids are derived from this table, never written as
literals elsewhere.
"""

from __future__ import annotations

from virnucpro.errors import InputError

_RESIDUES = tuple("LAGVSERTIDPKQNFYMHWCXBUZO.-")
TOKENS: tuple[str, ...] = ("<cls>", "<pad>", "<eos>", "<unk>", *_RESIDUES, "<null_1>", "<mask>")
TOKEN_TO_ID: dict[str, int] = {token: index for index, token in enumerate(TOKENS)}

CLS_ID = TOKEN_TO_ID["<cls>"]
PAD_ID = TOKEN_TO_ID["<pad>"]
EOS_ID = TOKEN_TO_ID["<eos>"]
UNK_ID = TOKEN_TO_ID["<unk>"]
MASK_ID = TOKEN_TO_ID["<mask>"]
ALPHABET_SIZE = len(TOKENS)

# The reference extraction (fair-esm's BatchConverter with truncation_seq_length=1024) keeps at most
# 1024 residues, then adds <cls> and <eos>; the embedding is the mean over those residues.
MAX_RESIDUES = 1024


def tokenize_protein(sequence: str, *, max_residues: int = MAX_RESIDUES) -> list[int]:
    """Token ids `<cls>` + residues (at most `max_residues`) + `<eos>` of one protein.

    Each character is one residue token; a letter outside the alphabet becomes `<unk>` (fair-esm's
    `Alphabet.get_idx` rule; its `encode` would raise KeyError instead). Translated frames only ever hold
    the 20 amino acids (and X with `--ambiguous x`), which map exactly as in fair-esm.

    Raises:
        InputError: the sequence is empty (its embedding, a mean over no residues, is undefined).
    """
    if not sequence:
        raise InputError("empty protein sequence: the ESM-2 embedding is a mean over residues and there are none")
    residues = [TOKEN_TO_ID.get(letter, UNK_ID) for letter in sequence[:max_residues]]
    return [CLS_ID, *residues, EOS_ID]
