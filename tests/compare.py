"""Equality checks of output files that leave evidence when they fail: the first line that differs."""

from __future__ import annotations

from pathlib import Path


def first_difference(ours: bytes, theirs: bytes) -> str:
    """Where two contents first differ, as line number and both lines; empty when they are equal."""
    if ours == theirs:
        return ""
    our_lines, their_lines = ours.splitlines(keepends=True), theirs.splitlines(keepends=True)
    for number, (mine, other) in enumerate(zip(our_lines, their_lines, strict=False), start=1):
        if mine != other:
            return f"first difference at line {number}:\n  ours:   {mine!r}\n  theirs: {other!r}"
    shorter = min(len(our_lines), len(their_lines))
    return (
        f"equal for {shorter} lines, then one ends: ours has {len(our_lines)} lines ({len(ours)} bytes), "
        f"theirs {len(their_lines)} ({len(theirs)} bytes)"
    )


def assert_same_file(ours: Path, theirs: Path, evidence: str = "") -> None:
    """`ours` has the bytes of `theirs`; otherwise fail with both paths, the first differing line and
    `evidence` (for example the trace's attempts of the runs that wrote them)."""
    difference = first_difference(ours.read_bytes(), theirs.read_bytes())
    assert not difference, f"{ours} differs from {theirs}\n{difference}\n{evidence}".rstrip()


def first_differing_row(ours, theirs) -> str:
    """For two float arrays of the same shape with different bytes: the first row that differs, and by how
    much at most; empty when their bytes are equal."""
    if ours.shape == theirs.shape and ours.tobytes() == theirs.tobytes():
        return ""
    if ours.shape != theirs.shape:
        return f"shapes differ: {ours.shape} vs {theirs.shape}"
    rows = [row for row in range(len(ours)) if ours[row].tobytes() != theirs[row].tobytes()]
    worst = float(abs(ours.astype("float64") - theirs.astype("float64")).max())
    return f"{len(rows)} of {len(ours)} rows differ, the first is row {rows[0]}; largest difference {worst:.3g}"
