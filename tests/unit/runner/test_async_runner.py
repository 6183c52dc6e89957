"""AsyncInferenceRunner with a fake model: order, packing, overlap, OOM retries, NaN checks, stop and resume."""

from __future__ import annotations

import random
import signal
import threading

import numpy as np
import pytest
from fake_embedding_model import FakeEmbeddingModel
from virnucpro.errors import InputError, VirnucproError
from virnucpro.io.embeddings import read_embeddings
from virnucpro.io.fasta import FastaRecord
from virnucpro.runner.async_runner import AsyncInferenceRunner
from virnucpro.runner.checkpoints import CheckpointStore
from virnucpro.runner.interrupts import Interrupted, StopRequest
from virnucpro.runner.settings import RunnerSettings

from tests.compare import first_differing_row

LETTERS = "ACDEFGHIKLMNPQRSTVY"  # no W: the NaN test marks sequences by a W


def make_records(count: int, seed: int = 0, low: int = 5, high: int = 60) -> list[FastaRecord]:
    rng = random.Random(seed)
    return [
        FastaRecord(f"seq{i}", "".join(rng.choice(LETTERS) for _ in range(rng.randint(low, high))), 2 * i + 1)
        for i in range(count)
    ]


def run(model, records, budget=128, **kwargs):
    settings = RunnerSettings(token_budget=budget, window_batches=kwargs.pop("window_batches", 4), **kwargs)
    return AsyncInferenceRunner(model, settings, progress_bar=False).run(records)


def test_output_is_in_input_order_and_matches_one_at_a_time():
    model = FakeEmbeddingModel()
    records = make_records(300)
    result = run(model, records)
    assert result.ids == [r.id for r in records]
    assert result.vectors.dtype == np.float32 and result.vectors.shape == (300, 8)
    reference = np.stack([model.embed_one(r.sequence).numpy() for r in records])
    # Packed rows differ from one-at-a-time rows only by float32 rounding in the matrix products:
    # measured max abs difference 6.0e-7 on this data (values of magnitude ~1); 1e-5 leaves margin.
    np.testing.assert_allclose(result.vectors, reference, rtol=0, atol=1e-5)


def test_every_sequence_is_computed_once_and_fill_ratio_is_real_tokens_over_budget():
    model = FakeEmbeddingModel()
    records = make_records(200, seed=1)
    result = run(model, records, budget=100)
    tokens = sum(len(r.sequence) + 2 for r in records)
    metrics = result.metrics
    assert sum(model.batch_sizes) == 200 and metrics.computed == 200 and metrics.sequences == 200
    assert metrics.batches == model.forward_passes == len(model.batch_sizes)
    assert metrics.tokens == tokens
    assert metrics.budget_tokens == 100 * metrics.batches
    assert metrics.fill_ratio == pytest.approx(tokens / (100 * metrics.batches))
    # first-fit-decreasing over windows of 4 budgets packs well: lower bound on batches is tokens / budget
    assert metrics.batches <= 1.25 * tokens / 100 + 4


def test_packing_runs_on_its_own_thread_while_the_model_computes():
    """A forward pass holds until the packer tokenizes a record (an event, not a sleep that the packer must
    happen to fill): the pass can only end early if packing shares its thread. While records are left to
    tokenize, each pass waits for one; a wait that ends without one (the packer a full queue ahead) lets the
    run go on, and the test needs one pass that saw a tokenization."""
    records = make_records(30, seed=2)
    model = FakeEmbeddingModel()
    tokenized = threading.Condition()
    calls: list[str] = []
    tokenize = model.tokenize

    def counting_tokenize(sequence: str) -> list[int]:
        with tokenized:
            calls.append(threading.current_thread().name)
            tokenized.notify_all()
        return tokenize(sequence)

    seen_during_a_pass: list[bool] = []

    def hold_until_a_tokenization(_: int) -> None:
        with tokenized:
            before = len(calls)
            if before < len(records) and not any(seen_during_a_pass):
                seen_during_a_pass.append(tokenized.wait_for(lambda: len(calls) > before, timeout=30))

    model.tokenize, model.on_forward = counting_tokenize, hold_until_a_tokenization
    result = run(model, records, budget=64, window_batches=2)
    assert set(calls) == {"packer"} and len(calls) == len(records)
    assert any(seen_during_a_pass), f"no record was tokenized during a forward pass: {seen_during_a_pass}"
    assert result.ids == [record.id for record in records]


def test_oom_halves_the_budget_and_retries_with_the_same_results():
    records = make_records(100, seed=3)
    expected = run(FakeEmbeddingModel(), records, budget=256).vectors
    model = FakeEmbeddingModel(oom_above=100)
    result = run(model, records, budget=256)
    # the budget halves until batches fit under the fake limit of 100 tokens; batches packed at 256 are
    # split before they run once the budget is lower, so only the first few hit out-of-memory at all
    assert 1 <= result.metrics.oom_retries <= 4
    assert result.metrics.final_token_budget <= 100
    assert result.metrics.batches > 3 * result.metrics.oom_retries
    assert result.ids == [r.id for r in records]
    # different batches: ulp-level differences only (same measurement as the one-at-a-time test)
    np.testing.assert_allclose(result.vectors, expected, rtol=0, atol=1e-5)


def test_oom_on_a_single_sequence_is_a_clear_error():
    records = [FastaRecord("short", "ACD", 1), FastaRecord("long", "A" * 50, 3)]
    with pytest.raises(VirnucproError, match=r"sequence long \(52 tokens\) does not fit in device memory"):
        run(FakeEmbeddingModel(oom_above=20), records, budget=64)


def test_a_sequence_longer_than_the_budget_is_named():
    records = [FastaRecord("ok", "ACD", 1), FastaRecord("huge", "A" * 70, 3)]
    with pytest.raises(InputError, match=r"sequence huge has 72 tokens, more than the token budget 64"):
        run(FakeEmbeddingModel(), records, budget=64)


def test_nan_outputs_name_the_sequences():
    # all in one batch, so the first failing batch holds all twelve bad sequences
    records = [FastaRecord(f"s{i}", "ACWD" if i % 2 else "ACD", i) for i in range(24)]
    message = r"NaN or Inf for 12 sequence\(s\): (s\d*[13579], ){9}s\d*[13579] and 2 more$"
    with pytest.raises(VirnucproError, match=message):
        run(FakeEmbeddingModel(nan_letter="W"), records, budget=256)


def test_a_runner_can_run_twice():
    runner = AsyncInferenceRunner(FakeEmbeddingModel(), RunnerSettings(token_budget=128), progress_bar=False)
    first, second = runner.run(make_records(50, seed=9)), runner.run(make_records(40, seed=10))
    assert (len(first.ids), len(second.ids)) == (50, 40)
    assert second.metrics.computed == 40


def test_empty_input_gives_an_empty_matrix():
    result = run(FakeEmbeddingModel(), [])
    assert result.ids == [] and result.vectors.shape == (0, 8)


def store_for(tmp_path, fingerprint="f" * 64):
    return CheckpointStore(tmp_path / "ck", fingerprint, {"test": "1"})


def interrupted_run(tmp_path, records, stop_after, **settings):
    """Run until forward pass `stop_after` asks for a stop (as a SIGTERM handler would); return the store."""
    stop = StopRequest()
    model = FakeEmbeddingModel(on_forward=lambda n: stop.request(signal.SIGTERM) if n == stop_after else None)
    store = store_for(tmp_path)
    runner = AsyncInferenceRunner(
        model, RunnerSettings(token_budget=128, window_batches=4, **settings), checkpoints=store, stop=stop
    )
    with pytest.raises(Interrupted) as caught:
        runner.run(records)
    store.close()
    return caught.value, model


def test_stop_request_saves_finished_batches_and_exits_143(tmp_path):
    records = make_records(400, seed=5)
    error, model = interrupted_run(tmp_path, records, stop_after=5, checkpoint_every=10_000)
    assert error.exit_code == 143
    store = store_for(tmp_path)
    resumed = store.load({r.id: i for i, r in enumerate(records)}, 8)
    store.close()
    # passes 1-5 all finish (the stop is honoured after the pass in flight) and are saved in one piece
    assert resumed.pieces == 1
    assert resumed.count == sum(model.batch_sizes) > 0
    assert f"{resumed.count} of 400 sequences embedded and saved to checkpoints" in str(error)


def test_resumed_run_is_byte_identical_to_an_uninterrupted_one(tmp_path):
    records = make_records(400, seed=6)
    uninterrupted = run(FakeEmbeddingModel(), records).vectors
    interrupted_run(tmp_path, records, stop_after=7, checkpoint_every=20)
    model = FakeEmbeddingModel()
    store = store_for(tmp_path)
    result = AsyncInferenceRunner(model, RunnerSettings(token_budget=128, window_batches=4), checkpoints=store).run(
        records
    )
    store.close()
    assert 0 < result.metrics.resumed < 400
    assert result.metrics.computed == 400 - result.metrics.resumed == sum(model.batch_sizes)
    assert result.ids == [r.id for r in records]
    assert not (difference := first_differing_row(result.vectors, uninterrupted)), difference


def test_batch_composition_changes_bytes_so_windows_matter():
    # Why the runner packs in fixed windows: the same sequence in another batch can differ in the last bit.
    records = make_records(400, seed=6)
    model = FakeEmbeddingModel()
    one_window = run(model, records, budget=128, window_batches=4).vectors
    other = run(model, records, budget=96, window_batches=4).vectors
    assert one_window.tobytes() != other.tobytes()
    np.testing.assert_allclose(one_window, other, rtol=0, atol=1e-5)


@pytest.mark.parametrize(("every", "interval"), [(10**6, 1e9), (10**6, 1e-9), (50, 1e9)])
def test_checkpoint_triggers(tmp_path, every, interval):
    records = make_records(200, seed=7)
    model = FakeEmbeddingModel()
    store = store_for(tmp_path)
    settings = RunnerSettings(token_budget=128, window_batches=4, checkpoint_every=every, checkpoint_interval=interval)
    AsyncInferenceRunner(model, settings, checkpoints=store).run(records)
    store.close()
    sizes = [len(read_embeddings(p).ids) for p in sorted(store.directory.glob("piece-*.safetensors"))]
    if every == 50:  # a piece as soon as 50 rows wait; rows after the last piece stay in memory
        assert all(50 <= size < 50 + max(model.batch_sizes) for size in sizes)
        assert 0 <= 200 - sum(sizes) < 50
    elif interval < 1:  # the time trigger fires after every batch
        assert sizes == model.batch_sizes
    else:  # a finished run leaves the output to its caller: no piece was due
        assert sizes == []


def test_runs_outside_the_main_thread():
    # signal handling lives in the embed stage; the runner itself works from any thread
    records = make_records(20, seed=8)
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("r", run(FakeEmbeddingModel(), records)))
    thread.start()
    thread.join()
    assert out["r"].ids == [r.id for r in records]
