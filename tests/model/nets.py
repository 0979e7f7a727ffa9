"""Small user models written the way users write them (modules and functional code)."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - the usual torch alias
from torch import nn

USER_FILE = '''
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    """A stem, a gate in functional code, a class token, a head and an unused head."""

    def __init__(self, width=1.0, classes=10):
        super().__init__()
        c = int(16 * width)
        self.stem = nn.Conv2d(3, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)
        self.token = nn.Parameter(torch.zeros(1, c))
        self.head = nn.Linear(c, classes)
        self.aux = nn.Linear(c, 5)  # never run

    def forward(self, x):
        y = F.relu(self.bn(self.stem(x)))
        y = y + y * torch.sigmoid(y.mean((2, 3), keepdim=True))
        return self.head(y.mean((2, 3)) + self.token)


def build(width=1.0, classes=10):
    return Net(width, classes)


def broken(width=1.0):
    raise ValueError(f"width {width} is not supported")


def not_a_model():
    return 42


def two_inputs():
    class Pair(nn.Module):
        def forward(self, a, b):
            return a + b

    return Pair()


SIZE = 7
'''


def user_net_params(width: float = 1.0, classes: int = 10) -> int:
    """By hand: stem c x 3 x 3 x 3 + c, BN 2c, token c, head c x classes + classes, aux
    c x 5 + 5 (counted: it is a parameter, though it never runs)."""
    c = int(16 * width)
    return (c * 27 + c) + 2 * c + c + (c * classes + classes) + (c * 5 + 5)


def user_net_macs(width: float, side: int, classes: int = 10) -> int:
    """By hand: the stem's side x side x c x 3 x 3 x 3, the head's c x classes."""
    c = int(16 * width)
    return side * side * c * 27 + c * classes


class Unknown(nn.Module):
    """Uses an op convcalc has no formula for (cumsum) between two it has."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(x).cumsum(dim=1))


class Attention(nn.Module):
    """Tokens through nn.MultiheadAttention (F.multi_head_attention_forward inside)."""

    def __init__(self, embed: int = 16, heads: int = 4) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(embed, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.attention(x, x, x, need_weights=False)[0]
        return out
