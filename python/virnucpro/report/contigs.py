"""Per-contig results and viral regions for every input sequence longer than one chunk.

The method scores chunks; a contig (kb to Mb) needs a call of its own and, for a host contig carrying a
prophage, the place of its viral part. Everything here is derived from the per-chunk scores and the
chunk coordinates of `chunks.tsv` (0-based, half-open on the contig), so regions are in contig
coordinates whatever the chunk geometry (overlapping chunks, a short last chunk).

- A chunk is *scored* when it kept at least one frame; its score is the best P(virus) over its frames,
  and it is *viral* when that score is at least the read-calling threshold. A chunk without a frame is
  not viral (there is nothing to score).
- A *region* is a maximal run of viral chunks, runs separated by at most `max_gap` non-viral chunks
  merged into one, kept when it spans at least `min_length` bases. It runs from the first viral chunk's
  start to the last viral chunk's end.
- The contig *call*: `virus` when at least half of its chunks are viral (chunks without a frame count as
  not viral, so a host contig with a prophage is not called virus for want of frames in its host part);
  otherwise `viral_regions` when it has at least one region; otherwise `others`. A contig without a
  scored chunk has status `no_valid_frame` and call `NA`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from virnucpro.errors import InputError
from virnucpro.io.chunks import Chunk
from virnucpro.io.scores import ScoreRow

CONTIGS_NAME = "contigs.tsv"
REGIONS_NAME = "regions.bed"
CONTIGS_COLUMNS = (
    "contig_id",
    "length",
    "chunks",
    "chunks_scored",
    "viral_chunks",
    "viral_fraction",
    "mean_virus_score",
    "max_virus_score",
    "regions",
    "region_bases",
    "call",
    "status",
)
CONTIG_CALLS = ("virus", "viral_regions", "others")
VIRUS_FRACTION = 0.5  # at least this share of all chunks viral: the whole contig is called virus
DEFAULT_MAX_GAP = 1  # non-viral chunks bridged inside one region
DEFAULT_MIN_LENGTH = 1000  # bases; shorter runs (about three 300-bp chunks or fewer) are left out
MISSING = "NA"
BED_SCALE = 1000  # BED's score column runs from 0 to 1000


@dataclass(frozen=True)
class RegionSettings:
    """How viral chunks become regions.

    Attributes:
        max_gap: runs of viral chunks separated by at most this many non-viral chunks are merged.
        min_length: regions spanning fewer bases are left out.
    """

    max_gap: int = DEFAULT_MAX_GAP
    min_length: int = DEFAULT_MIN_LENGTH

    def check(self) -> None:
        """Raise InputError for a negative gap or a minimum length below one base."""
        if isinstance(self.max_gap, bool) or not isinstance(self.max_gap, int) or self.max_gap < 0:
            raise InputError(f"--region-max-gap {self.max_gap!r} must be a whole number of chunks, 0 or more")
        if isinstance(self.min_length, bool) or not isinstance(self.min_length, int) or self.min_length < 1:
            raise InputError(f"--region-min-length {self.min_length!r} must be a positive number of bases")


@dataclass(frozen=True)
class ChunkScore:
    """One chunk on its contig: coordinates, best P(virus) (None: no frame) and whether it is viral."""

    chunk_id: str
    start: int
    end: int
    score: float | None
    viral: bool


@dataclass(frozen=True)
class Region:
    """A viral region: contig coordinates (0-based, half-open) and the chunks it spans."""

    contig: str
    number: int
    start: int
    end: int
    chunks: int
    viral_chunks: int
    mean_score: float

    def bed_line(self) -> str:
        score = round(BED_SCALE * self.mean_score)
        return f"{self.contig}\t{self.start}\t{self.end}\t{self.contig}_region_{self.number}\t{score}\t."


@dataclass(frozen=True)
class Contig:
    """One row of `contigs.tsv`, with its chunk track and regions for the report page."""

    contig_id: str
    length: int
    track: tuple[ChunkScore, ...]
    regions: tuple[Region, ...]

    @property
    def scored(self) -> list[float]:
        return [c.score for c in self.track if c.score is not None]

    @property
    def viral_chunks(self) -> int:
        return sum(c.viral for c in self.track)

    @property
    def region_bases(self) -> int:
        return sum(r.end - r.start for r in self.regions)

    @property
    def status(self) -> str:
        return "called" if self.scored else "no_valid_frame"

    @property
    def call(self) -> str:
        if not self.scored:
            return MISSING
        if self.viral_chunks >= VIRUS_FRACTION * len(self.track):
            return "virus"
        return "viral_regions" if self.regions else "others"

    def line(self) -> str:
        scored = self.scored
        fraction = f"{self.viral_chunks / len(self.track):.4f}" if scored else MISSING
        mean = f"{sum(scored) / len(scored):.6f}" if scored else MISSING
        best = f"{max(scored):.6f}" if scored else MISSING
        values = (self.contig_id, self.length, len(self.track), len(scored), self.viral_chunks, fraction, mean, best)
        return "\t".join(map(str, (*values, len(self.regions), self.region_bases, self.call, self.status)))


def chunk_track(chunks: Sequence[Chunk], frames: dict[str, list[ScoreRow]], threshold: float) -> list[ChunkScore]:
    """The scored chunks of one contig, in chunk order."""
    track = []
    for chunk in chunks:
        scores = [float(row[2]) for row in frames[chunk.chunk_id]]
        best = max(scores) if scores else None
        track.append(ChunkScore(chunk.chunk_id, chunk.start, chunk.end, best, best is not None and best >= threshold))
    return track


def find_regions(contig: str, track: Sequence[ChunkScore], settings: RegionSettings) -> list[Region]:
    """Maximal runs of viral chunks, merged across at most `max_gap` non-viral chunks, long enough."""
    runs: list[list[int]] = []  # [first, last] chunk indexes of each merged run
    for index, chunk in enumerate(track):
        if not chunk.viral:
            continue
        if runs and index - runs[-1][1] - 1 <= settings.max_gap:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    regions = []
    for first, last in runs:
        start, end = track[first].start, track[last].end
        if end - start < settings.min_length:
            continue
        span = track[first : last + 1]
        scored = [c.score for c in span if c.score is not None]
        viral = sum(c.viral for c in span)
        regions.append(Region(contig, len(regions) + 1, start, end, len(span), viral, sum(scored) / len(scored)))
    return regions


def call_contigs(
    reads: dict[str, list[Chunk]], frames: dict[str, list[ScoreRow]], threshold: float, settings: RegionSettings
) -> list[Contig]:
    """A `Contig` for every read cut into more than one chunk, in input order.

    Args:
        reads: each read's chunks, in input order (as `report.reads` groups them).
        frames: scored frames per chunk ID (`report.reads.frames_by_chunk`).
        threshold: the P(virus) at or above which a chunk is viral.
        settings: how regions are built.
    """
    contigs = []
    for read_id, chunks in reads.items():
        if len(chunks) < 2:
            continue
        track = chunk_track(chunks, frames, threshold)
        regions = find_regions(read_id, track, settings)
        contigs.append(Contig(read_id, chunks[0].read_length, tuple(track), tuple(regions)))
    return contigs


def contigs_text(contigs: Sequence[Contig]) -> str:
    """The whole `contigs.tsv`."""
    return "\n".join(["\t".join(CONTIGS_COLUMNS), *(contig.line() for contig in contigs)]) + "\n"


def regions_text(contigs: Sequence[Contig]) -> str:
    """The whole `regions.bed` (BED6, no header; empty when there is no region)."""
    return "".join(region.bed_line() + "\n" for contig in contigs for region in contig.regions)
