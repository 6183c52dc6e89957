"""The inference runner: packed, overlapped, checkpointed embedding of many sequences with one model."""
