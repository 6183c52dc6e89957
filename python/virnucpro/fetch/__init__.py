"""Download the published models (`virnucpro fetch-models`): DNABERT-S, ESM-2 3B and the two classifiers.

`catalogue` says where each file comes from and how it is checked, `transfer` moves bytes (resumable),
`verify` decides whether the bytes are the published ones, `fetcher` stages and places them, and
`usage` writes the options that use them.
"""
