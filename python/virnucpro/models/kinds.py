"""The embedding models by the names the command line, the file names and the checkpoints use.

Importable without torch, so the command line can list the choices without loading a model library.
"""

from __future__ import annotations

ESM2 = "esm2"
DNABERT_S = "dnabert-s"
# What each model embeds (docs/contract.md, sections 4 and 5): ESM-2 the proteins, DNABERT-S their
# nucleotide slices. The order is the order the choices are listed in.
MODEL_ALPHABETS = {ESM2: "protein", DNABERT_S: "nucleotide"}
MODEL_KINDS = tuple(MODEL_ALPHABETS)
