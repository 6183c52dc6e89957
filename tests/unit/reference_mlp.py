"""The original scripts' `MLPClassifier`, written out independently of the package, and their way of loading.

The published classifier files are whole modules pickled as `__main__.MLPClassifier`; the original
prediction script unpickled them, unrestricted, with this class defined in its `__main__`. Tests load
classifier files the same way to get reference scores that owe nothing to the package's restricted loader.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from virnucpro.models.tiny_checkpoints import mlp_classifier_in_main


class MLPClassifier(nn.Module):
    """The original scripts' class, as they define it."""

    def __init__(self, input_dim, hidden_dim, num_class):
        super().__init__()
        self.hidden_layer = nn.Linear(input_dim, hidden_dim)
        self.bn1 = nn.BatchNorm1d(hidden_dim)
        self.output_layer = nn.Linear(hidden_dim, num_class)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        x = self.hidden_layer(x)
        x = self.bn1(x)
        x = F.relu(x)
        x = self.dropout(x)
        return self.output_layer(x)


def load_as_original(path: Path) -> nn.Module:
    """Unpickle a classifier file as the original prediction script did, in eval mode."""
    with mlp_classifier_in_main(MLPClassifier):
        return torch.load(path, weights_only=False).eval()
