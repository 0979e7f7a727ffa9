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
    """Uses an op convcalc has no formula for (logcumsumexp) between two it has."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(x).logcumsumexp(dim=1))


class Attention(nn.Module):
    """Tokens through nn.MultiheadAttention (F.multi_head_attention_forward inside)."""

    def __init__(self, embed: int = 16, heads: int = 4) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(embed, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.attention(x, x, x, need_weights=False)[0]
        return out


class CallStyles(nn.Module):
    """The same work written the ways tools that patch functions tell apart: an explicit
    ``x.add(y)`` / ``torch.add`` / ``x + y``, ``x.matmul`` / ``torch.matmul`` / ``@``,
    modules whose forward calls a functional (nn.ReLU, nn.MaxPool2d, nn.Upsample) and
    the functionals called directly, norms, softmax, dropout and pools."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.relu = nn.ReLU()
        self.up = nn.Upsample(scale_factor=2)
        self.gelu = nn.GELU()
        self.pool = nn.MaxPool2d(2)
        self.avg = nn.AvgPool2d((3, 3), 1, 1)
        self.norm = nn.LayerNorm(8)
        self.group = nn.GroupNorm(2, 8)
        self.softmax = nn.Softmax(-1)
        self.drop = nn.Dropout(0.1)
        self.off = nn.Dropout(0.0)
        self.act = nn.Hardswish()
        self.head = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.conv(x))
        y = x.add(x)
        z = torch.add(x, y)
        w = (x + z).mul(2) * 2
        w = self.pool(self.gelu(self.up(w)))
        w = torch.relu(F.relu6(F.silu(w)))
        w = self.act(self.avg(self.group(w)))
        v = self.norm(w.permute(0, 2, 3, 1))
        t = v.transpose(-1, -2)
        scores = self.softmax(v.matmul(t) + v @ t + torch.matmul(v, t))
        e = F.interpolate(w, scale_factor=2, mode="bilinear")
        f = self.off(self.drop(F.adaptive_avg_pool2d(F.max_pool2d(e, 2), 1).flatten(1)))
        return self.head(f) + scores.mean()  # type: ignore[no-any-return]


class SelfAttention(nn.Module):
    """nn.MultiheadAttention as a user calls it (need_weights by default)."""

    def __init__(self, batch_first: bool, need_weights: bool) -> None:
        super().__init__()
        self.proj = nn.Linear(16, 32)
        self.attention = nn.MultiheadAttention(32, 4, batch_first=batch_first)
        self.need_weights = need_weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)
        y, _ = self.attention(x, x, x, need_weights=self.need_weights)
        return y  # type: ignore[no-any-return]
