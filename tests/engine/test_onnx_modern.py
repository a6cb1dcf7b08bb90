"""Small models in the shapes of today's architectures, none of them in the corpus the importer was built
on: a GPT block, a ViT, an EfficientNet block (SiLU, squeeze-excitation), a ConvNeXt block, DenseNet's
concatenations, a bidirectional GRU classifier, a 1-D audio CNN, an MLP with LayerNorm and GELU, a
convolutional autoencoder and a decoder that upsamples. Written by both of torch's exporters; the ones that
import must reproduce the original in ONNX Runtime at two batch sizes, the others must be refused naming
the node and the fix (docs/onnx-import.md, "Modern architectures": 14 of 20 import)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from netbuilder.onnx.importer import OnnxImportError, import_onnx
from tests.engine.onnx_architectures import EXPORTERS, export


def _corpus():
    spec = importlib.util.spec_from_file_location(
        "onnx_corpus", Path(__file__).resolve().parents[2] / "benchmarks" / "onnx_corpus.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class GPTBlock(nn.Module):
    def __init__(s, d=32, h=4, T=8):
        super().__init__()
        s.h = h
        s.ln1 = nn.LayerNorm(d)
        s.qkv = nn.Linear(d, 3 * d)
        s.proj = nn.Linear(d, d)
        s.ln2 = nn.LayerNorm(d)
        s.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        s.register_buffer("mask", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def forward(s, x):
        B, T, C = x.shape
        q, k, v = s.qkv(s.ln1(x)).split(C, dim=2)
        q = q.view(B, T, s.h, C // s.h).transpose(1, 2)
        k = k.view(B, T, s.h, C // s.h).transpose(1, 2)
        v = v.view(B, T, s.h, C // s.h).transpose(1, 2)
        a = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        a = a.masked_fill(s.mask[:, :, :T, :T] == 0, float("-inf"))
        a = F.softmax(a, dim=-1)
        y = (a @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + s.proj(y)
        return x + s.mlp(s.ln2(x))


class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(50, 32)
        s.pos = nn.Parameter(torch.randn(1, 8, 32) * 0.1)
        s.b = GPTBlock()
        s.head = nn.Linear(32, 50)

    def forward(s, i):
        return s.head(s.b(s.emb(i) + s.pos))


class ViT(nn.Module):
    def __init__(s):
        super().__init__()
        s.patch = nn.Conv2d(3, 32, 4, 4)
        s.cls = nn.Parameter(torch.randn(1, 1, 32) * 0.1)
        s.pos = nn.Parameter(torch.randn(1, 17, 32) * 0.1)
        s.enc = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True, norm_first=True), 2
        )
        s.head = nn.Linear(32, 10)

    def forward(s, x):
        x = s.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([s.cls.expand(x.shape[0], -1, -1), x], 1) + s.pos
        return s.head(s.enc(x)[:, 0])


class SE(nn.Module):
    def __init__(s, c=16):
        super().__init__()
        s.f1 = nn.Conv2d(c, 4, 1)
        s.f2 = nn.Conv2d(4, c, 1)

    def forward(s, x):
        return x * torch.sigmoid(s.f2(F.silu(s.f1(F.adaptive_avg_pool2d(x, 1)))))


class EffNet(nn.Module):
    def __init__(s):
        super().__init__()
        s.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.SiLU())
        s.dw = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, groups=16), nn.BatchNorm2d(16), nn.SiLU())
        s.se = SE()
        s.pw = nn.Conv2d(16, 24, 1)
        s.head = nn.Linear(24, 10)

    def forward(s, x):
        x = s.pw(s.se(s.dw(s.stem(x))))
        return s.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class ConvNeXtBlock(nn.Module):
    def __init__(s, c=16):
        super().__init__()
        s.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        s.ln = nn.LayerNorm(c)
        s.l1 = nn.Linear(c, 4 * c)
        s.l2 = nn.Linear(4 * c, c)
        s.g = nn.Parameter(torch.full((c,), 0.5))

    def forward(s, x):
        y = s.dw(x).permute(0, 2, 3, 1)
        y = s.l2(F.gelu(s.l1(s.ln(y))))
        y = s.g * y
        return x + y.permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    def __init__(s):
        super().__init__()
        s.stem = nn.Conv2d(3, 16, 4, 4)
        s.b = ConvNeXtBlock()
        s.head = nn.Linear(16, 10)

    def forward(s, x):
        return s.head(s.b(s.stem(x)).mean([-2, -1]))


class Dense(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(3, 8, 3, padding=1)
        s.c2 = nn.Conv2d(11, 8, 3, padding=1)
        s.bn = nn.BatchNorm2d(19)
        s.out = nn.Linear(19, 5)

    def forward(s, x):
        a = torch.cat([x, F.relu(s.c1(x))], 1)
        b = torch.cat([a, F.relu(s.c2(a))], 1)
        return s.out(F.adaptive_avg_pool2d(F.relu(s.bn(b)), 1).flatten(1))


class GRUClf(nn.Module):
    def __init__(s):
        super().__init__()
        s.e = nn.Embedding(100, 16)
        s.g = nn.GRU(16, 24, batch_first=True, bidirectional=True)
        s.o = nn.Linear(48, 3)

    def forward(s, i):
        y, _ = s.g(s.e(i))
        return s.o(y[:, -1])


class Audio(nn.Module):
    def __init__(s):
        super().__init__()
        s.n = nn.Sequential(
            nn.Conv1d(1, 8, 9, stride=2, padding=4),
            nn.BatchNorm1d(8),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(8, 16, 5, padding=2),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
            nn.Linear(16, 4),
        )

    def forward(s, x):
        return s.n(x)


class MLP(nn.Module):
    def __init__(s):
        super().__init__()
        s.n = nn.Sequential(
            nn.Linear(20, 64),
            nn.LayerNorm(64),
            nn.GELU(),
            nn.Dropout(0.1),
            nn.Linear(64, 64),
            nn.ELU(),
            nn.Linear(64, 2),
            nn.LogSoftmax(1),
        )

    def forward(s, x):
        return s.n(x)


class AE(nn.Module):
    def __init__(s):
        super().__init__()
        s.e = nn.Sequential(nn.Conv2d(1, 8, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(8, 16, 3, 2, 1), nn.Tanh())
        s.d = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(8, 1, 4, 2, 1), nn.Sigmoid()
        )

    def forward(s, x):
        return s.d(s.e(x))


class Upsample(nn.Module):
    def __init__(s):
        super().__init__()
        s.c = nn.Conv2d(3, 4, 3, padding=1)
        s.u = nn.Upsample(scale_factor=2, mode="nearest")
        s.c2 = nn.Conv2d(4, 2, 1)

    def forward(s, x):
        return s.c2(s.u(F.relu(s.c(x))))


CASES = {
    "gpt": (GPT, torch.randint(0, 50, (2, 8))),
    "vit": (ViT, torch.randn(2, 3, 16, 16)),
    "effnet": (EffNet, torch.randn(2, 3, 32, 32)),
    "convnext": (ConvNeXt, torch.randn(2, 3, 32, 32)),
    "densenet": (Dense, torch.randn(2, 3, 16, 16)),
    "gru": (GRUClf, torch.randint(0, 100, (2, 7))),
    "audio": (Audio, torch.randn(2, 1, 256)),
    "mlp": (MLP, torch.randn(2, 20)),
    "ae": (AE, torch.randn(2, 1, 28, 28)),
    "upsample": (Upsample, torch.randn(2, 3, 8, 8)),
}

# What does not import yet, and the words its refusal must carry (the node and what to do).
REFUSED = {
    "gpt": "is not one value per channel (dim 1) nor a single number",  # a learned [1, T, C] position table
    "vit": "",  # the class token concatenated through a shape computed at run time
    "convnext": "is not one value per channel (dim 1) nor a single number",  # layer scale over channels-last
}


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_modern_architecture(name: str, exporter: str, tmp_path: Path) -> None:
    make, sample = CASES[name]
    torch.manual_seed(0)
    module = make().eval()
    path = export(module, sample, tmp_path / f"{name}.onnx", exporter)
    if name in REFUSED:
        with pytest.raises(OnnxImportError) as caught:
            import_onnx(path)
        message = str(caught.value)
        assert "node '" in message and REFUSED[name] in message, message
        return
    with torch.no_grad():
        expected = module(sample).numpy()
    assert _corpus().check(f"{name}_{exporter}", path, [sample.numpy()], [expected], tmp_path) is None
