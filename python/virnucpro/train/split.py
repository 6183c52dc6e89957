"""Train / validation / test split by SOURCE RECORD, stratified by label and seeded.

The published script split frames at random, so frames of one genome landed on both sides and the test
score measured memory as much as generalisation. Here every frame follows its record.
"""

from __future__ import annotations

import numpy as np

from virnucpro.errors import InputError

SETS = ("train", "validation", "test")
MIN_RECORDS_PER_CLASS = 3


def split_records(
    record_labels: dict[str, int], *, seed: int, test_fraction: float, validation_fraction: float
) -> dict[str, str]:
    """Assign each record to "train", "validation" or "test", per class, in seeded random order.

    Each class gives round(n * fraction) records (at least 1) to the test and validation sets.

    Raises:
        InputError: a class with fewer than 3 records, or fractions that leave nothing to train on.
    """
    if test_fraction <= 0 or validation_fraction <= 0 or test_fraction + validation_fraction >= 1:
        raise InputError("--test-fraction and --validation-fraction must be > 0 and sum to less than 1")
    rng = np.random.default_rng(seed)
    assignment: dict[str, str] = {}
    for label in sorted(set(record_labels.values())):
        records = sorted(r for r, value in record_labels.items() if value == label)
        if len(records) < MIN_RECORDS_PER_CLASS:
            raise InputError(
                f"class {label} has {len(records)} source record(s); at least {MIN_RECORDS_PER_CLASS} are needed"
            )
        shuffled = [records[i] for i in rng.permutation(len(records))]
        n_test = max(1, round(len(records) * test_fraction))
        n_val = max(1, round(len(records) * validation_fraction))
        if n_test + n_val >= len(records):
            raise InputError(f"class {label}: {len(records)} records are too few for the requested fractions")
        for index, record in enumerate(shuffled):
            assignment[record] = "test" if index < n_test else "validation" if index < n_test + n_val else "train"
    return assignment
