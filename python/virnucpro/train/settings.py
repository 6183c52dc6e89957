"""How a classifier is trained: one frozen settings object, importable without torch (the CLI reads its defaults)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation and split settings; the optimisation defaults are the published ones (SGD, StepLR, patience 5).

    Attributes:
        epochs: at most this many passes over the training records' frames.
        batch_size: frames per optimiser step.
        learning_rate, momentum: SGD's.
        lr_step, lr_gamma: StepLR multiplies the learning rate by `lr_gamma` every `lr_step` epochs.
        patience: stop after this many epochs without a lower validation loss.
        hidden_dim: width of the hidden layer (512 in the published classifiers).
        seed: seeds the split, the initialisation and the batch order.
        test_fraction, validation_fraction: share of each class's records held out for testing and for
            early stopping.
    """

    epochs: int = 200
    batch_size: int = 32
    learning_rate: float = 0.0002
    momentum: float = 0.9
    lr_step: int = 10
    lr_gamma: float = 0.85
    patience: int = 5
    hidden_dim: int = 512
    seed: int = 42
    test_fraction: float = 0.1
    validation_fraction: float = 0.1
