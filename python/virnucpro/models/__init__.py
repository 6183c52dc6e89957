"""Native PyTorch implementations of the embedding models (ESM-2, DNABERT-S) and the classifier."""
