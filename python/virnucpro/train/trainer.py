"""Fit the MLP classifier: the published optimiser and schedule, with early stopping that really restores.

The published script kept `model.state_dict()` as its "best weights": a dict of references to the live
tensors, so restoring it was a no-op. Here the best weights are copied when they are seen and loaded back
at the end, whether training stopped early or ran out of epochs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from virnucpro.logging_setup import get_logger
from virnucpro.models.classifier import MLPClassifier
from virnucpro.train.settings import TrainSettings

log = get_logger("train")


@dataclass
class TrainResult:
    """The restored best model and what happened on the way."""

    model: MLPClassifier
    best_epoch: int
    best_validation_loss: float
    history: list[dict[str, float]] = field(default_factory=list)


def _epoch(model, optimizer, criterion, features, labels, batch_size, generator) -> float:
    """One pass over the training rows in a seeded random order; returns the mean batch loss."""
    model.train()
    order = torch.randperm(len(labels), generator=generator)
    losses = []
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        if len(index) < 2:  # BatchNorm cannot normalise a batch of one row in training mode
            continue
        optimizer.zero_grad()
        loss = criterion(model(features[index]), labels[index])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses)) if losses else float("nan")


def evaluate_loss(model: nn.Module, features: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean cross-entropy over all rows, in eval mode."""
    model.eval()
    with torch.no_grad():
        return float(nn.functional.cross_entropy(model(features), labels).item())


def train_classifier(
    train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray], settings: TrainSettings
) -> TrainResult:
    """Train on `train` (features, labels), early-stop on the validation loss, return the best model.

    The run is deterministic for a given seed on a given machine (seeded init and batch order).
    """
    x_train, y_train = torch.from_numpy(train[0]).float(), torch.from_numpy(train[1]).long()
    x_val, y_val = torch.from_numpy(validation[0]).float(), torch.from_numpy(validation[1]).long()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        model = MLPClassifier(x_train.shape[1], settings.hidden_dim, 2)
        nn.init.xavier_uniform_(model.hidden_layer.weight)
        nn.init.xavier_uniform_(model.output_layer.weight)
        generator = torch.Generator().manual_seed(settings.seed)
        optimizer = torch.optim.SGD(model.parameters(), lr=settings.learning_rate, momentum=settings.momentum)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=settings.lr_step, gamma=settings.lr_gamma)
        criterion = nn.CrossEntropyLoss()
        best_state, best_loss, best_epoch, waited = copy.deepcopy(model.state_dict()), float("inf"), 0, 0
        history = []
        for epoch in range(1, settings.epochs + 1):
            train_loss = _epoch(model, optimizer, criterion, x_train, y_train, settings.batch_size, generator)
            val_loss = evaluate_loss(model, x_val, y_val)
            history.append({"epoch": epoch, "train_loss": train_loss, "validation_loss": val_loss})
            log.debug("epoch %d: train loss %.4f, validation loss %.4f", epoch, train_loss, val_loss)
            if val_loss < best_loss:
                best_state, best_loss, best_epoch, waited = copy.deepcopy(model.state_dict()), val_loss, epoch, 0
            else:
                waited += 1
                if waited >= settings.patience:
                    log.info(
                        "early stop at epoch %d; best epoch %d (validation loss %.4f)", epoch, best_epoch, best_loss
                    )
                    break
            scheduler.step()
    model.load_state_dict(best_state)
    return TrainResult(model=model.eval(), best_epoch=best_epoch, best_validation_loss=best_loss, history=history)
