"""Early stopping restores the best epoch's weights, and training is seeded."""

from __future__ import annotations

import numpy as np
import torch
from virnucpro.train.trainer import TrainSettings, evaluate_loss, train_classifier


def _noisy(seed: int, n: int):
    """Labels barely related to the features: validation loss turns up quickly as the model memorises."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 16)).astype(np.float32)
    y = ((x[:, 0] + rng.normal(0, 3, n)) > 0).astype(np.int64)
    return x, y


def test_best_weights_are_really_restored():
    train, validation = _noisy(0, 200), _noisy(1, 100)
    settings = TrainSettings(epochs=100, batch_size=16, learning_rate=0.05, patience=3, hidden_dim=64, seed=3)
    result = train_classifier(train, validation, settings)
    losses = [h["validation_loss"] for h in result.history]
    assert result.best_epoch < len(losses)  # stopped after later, worse epochs: restoring matters
    assert min(losses) == losses[result.best_epoch - 1] == result.best_validation_loss
    x_val, y_val = torch.from_numpy(validation[0]), torch.from_numpy(validation[1])
    assert evaluate_loss(result.model, x_val, y_val) == result.best_validation_loss
    assert losses[-1] > result.best_validation_loss


def test_same_seed_same_model():
    train, validation = _noisy(0, 100), _noisy(1, 40)
    settings = TrainSettings(epochs=4, batch_size=16, learning_rate=0.01, hidden_dim=16, seed=5)
    first = train_classifier(train, validation, settings).model.state_dict()
    second = train_classifier(train, validation, settings).model.state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
