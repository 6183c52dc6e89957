"""What produced a report: models and classifier with their fingerprints, versions, chunk length, time.

The classify stage's `classify.json` (one per shard) carries the metadata of both embedding files
(model kind, name as given, weights fingerprint, precision, backend, device, torch and virnucpro
versions) and the classifier's sha256. A report condenses them to the distinct values: one entry per
model when every shard ran alike, several when shards ran differently (a retry on another device), so
a reader sees exactly what made the numbers.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from virnucpro.errors import InputError
from virnucpro.io.chunks import Chunk

# classify.json key -> the model kind it describes
MODEL_KEYS = {"dnabert": "dnabert-s", "esm": "esm2"}
# embedding-file metadata that describes the run rather than one shard's content
_MODEL_FIELDS = (
    "model_id",
    "model_fingerprint",
    "precision",
    "backend",
    "device_type",
    "device_name",
    "torch_version",
    "virnucpro_version",
)


def _distinct(entries: Iterable[dict]) -> list[dict]:
    """Entries in first-seen order, each once."""
    seen: list[dict] = []
    for entry in entries:
        if entry not in seen:
            seen.append(entry)
    return seen


def models_of(records: Sequence[dict]) -> dict[str, list[dict]]:
    """The distinct embedding models and classifiers named in classify records.

    Returns:
        `{"dnabert-s": [...], "esm2": [...], "classifier": [...]}`, each a list of distinct descriptions
        (empty lists when no shard had a frame to classify).
    """
    models: dict[str, list[dict]] = {}
    for key, kind in MODEL_KEYS.items():
        described = ({f: r[key][f] for f in _MODEL_FIELDS if f in r.get(key, {})} for r in records)
        models[kind] = _distinct(described)
    classifiers = ({f: r["classifier"][f] for f in ("path", "sha256") if f in r.get("classifier", {})} for r in records)
    models["classifier"] = _distinct(classifiers)
    return models


def torch_versions(records: Sequence[dict]) -> list[str]:
    """Every torch version that embedded or classified a shard, in first-seen order."""
    found = [r[key].get("torch_version") for r in records for key in MODEL_KEYS if key in r]
    found += [r.get("torch_version") for r in records]
    return list(dict.fromkeys(version for version in found if version))


def chunk_length_of(reads: dict[str, list[Chunk]], given: int | None) -> int | None:
    """The chunk length the chunks tables were made with, checked against `given` when there is one.

    A read longer than the chunk length C is cut into chunks whose first is exactly [0, C), so every
    multi-chunk read shows C. With only single-chunk reads, C is known only if given.

    Raises:
        InputError: `given` disagrees with the tables, or the tables disagree with each other.
    """
    seen = {chunks[0].read_id: chunks[0].end for chunks in reads.values() if len(chunks) > 1}
    lengths = sorted(set(seen.values()))
    if len(lengths) > 1:
        raise InputError(f"the chunks tables mix chunk lengths {', '.join(map(str, lengths))}")
    found = lengths[0] if lengths else None
    if given is not None and found is not None and found != given:
        example = next(read for read, length in seen.items() if length == found)
        raise InputError(
            f"--chunk-length {given} does not match the chunks tables, which were made with chunk length {found} "
            f"(read {example}'s first chunk is [0, {found}))"
        )
    if given is not None and found is None:
        longer = next((c[0] for c in reads.values() if c[0].read_length > given), None)
        if longer is not None:
            raise InputError(
                f"--chunk-length {given} does not match the chunks tables: read {longer.read_id} is "
                f"{longer.read_length} long but was not cut into chunks"
            )
    return given if given is not None else found


def created_at(epoch: int | None) -> str:
    """A report's creation time, ISO 8601 in UTC: the clock, or `epoch` (SOURCE_DATE_EPOCH) when set."""
    utc = datetime.timezone.utc
    when = datetime.datetime.now(utc) if epoch is None else datetime.datetime.fromtimestamp(epoch, utc)
    return when.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def merge_run_info(paths: Sequence[Path], given: Mapping[str, str]) -> dict[str, str]:
    """The run record from JSON files of `{"key": "text"}` entries, then the `given` ones; a key once only.

    Raises:
        InputError: a file that is not a JSON object of texts, or a key given twice.
    """
    run: dict[str, str] = {}
    sources = [(str(path), _read_run_file(path)) for path in paths] + [("--run-info", dict(given))]
    for source, entries in sources:
        for key, value in entries.items():
            if key in run:
                raise InputError(f"{source}: run entry {key!r} is given twice")
            run[key] = value
    return run


def _read_run_file(path: Path) -> dict[str, str]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON: line {error.lineno}: {error.msg}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InputError(f'{path}: expected a JSON object of texts, such as {{"input": "reads.fq.gz"}}')
    return data
