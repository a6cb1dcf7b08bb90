"""Six common modern architectures as small torch modules, and their export with torch's two ONNX
exporters: what people import. Small widths so that a test exports and runs each in a second.

``ARCHITECTURES`` maps a name to a function giving the module (eval mode, seeded weights, the
batch-norm statistics not the defaults) and a sample input; :func:`export` writes it with the
TorchScript exporter (``dynamo=False``) or the current one (``dynamo=True``, opset 18+, weights
in ``<file>.data`` beside the model).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

EXPORTERS = ("torchscript", "dynamo")


def _cbr(cin: int, cout: int, stride: int = 1, groups: int = 1, act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, groups=groups, bias=False), nn.BatchNorm2d(cout), act())


class BasicBlock(nn.Module):
    """ResNet's two-convolution residual block, with a 1x1 projection when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                     if stride != 1 or cin != cout else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class ResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = _cbr(3, 8)
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.layer2(self.layer1(self.stem(x)))), 1))


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expansion, 3x3 depthwise, linear 1x1 projection; a residual at stride 1."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.residual = stride == 1 and cin == cout
        self.block = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            _cbr(mid, mid, stride, groups=mid, act=nn.ReLU6),
            nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV2(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(_cbr(3, 8, 2, act=nn.ReLU6), InvertedResidual(8, 8, 1, 2),
                                      InvertedResidual(8, 12, 2, 3), InvertedResidual(12, 12, 1, 3))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(12, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


def vgg_bn() -> nn.Module:
    return nn.Sequential(
        _cbr(3, 8), _cbr(8, 8), nn.MaxPool2d(2), _cbr(8, 16), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 4 * 4, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 5))


class TextLSTM(nn.Module):
    """Token ids [N, T] int64 -> Embedding -> batch-first LSTM -> the last step -> classes."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 12)
        self.lstm = nn.LSTM(12, 16, batch_first=True)
        self.fc = nn.Linear(16, 3)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        seq, _ = self.lstm(self.embed(ids))
        return self.fc(seq[:, -1])


class TextRNN(nn.Module):
    """The text classifier's other common endings: ``h_n[-1]`` (of one or two layers, LSTM or GRU), or
    the mean over the positions."""

    def __init__(self, kind: str = "LSTM", layers: int = 1, bidirectional: bool = False, end: str = "h_n") -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 12)
        self.rnn = getattr(nn, kind)(12, 16, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(32 if bidirectional and end == "mean" else 16, 3)  # h_n[-1]: one direction
        self.end = end

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        seq, state = self.rnn(self.embed(ids))
        if self.end == "mean":
            return self.fc(seq.mean(1))
        h = state[0] if isinstance(self.rnn, nn.LSTM) else state
        return self.fc(h[-1])


class Transformer(nn.Module):
    """Two post-norm encoder layers, batch-first, then a per-position Linear."""

    def __init__(self) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0, batch_first=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # enable_nested_tensor is moot in eval with no mask
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


class UNet(nn.Module):
    """Two levels down, a bottleneck, ConvTranspose2d up, Concat skips, a 1x1 head."""

    def __init__(self) -> None:
        super().__init__()

        def double(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1),
                                 nn.ReLU())

        self.enc1, self.enc2, self.mid = double(3, 8), double(8, 16), double(16, 32)
        self.pool = nn.MaxPool2d(2)
        self.up2, self.dec2 = nn.ConvTranspose2d(32, 16, 2, stride=2), double(32, 16)
        self.up1, self.dec1 = nn.ConvTranspose2d(16, 8, 2, stride=2), double(16, 8)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        m = self.mid(self.pool(e2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        return self.head(d1)


def seeded(make: Callable[[], nn.Module]) -> nn.Module:
    torch.manual_seed(0)
    m = make()
    with torch.no_grad():
        for p in m.parameters():  # no 0 and 1 defaults (norms, biases) and no layers alike (deep copies)
            p.add_(torch.randn_like(p) * 0.1)
        for mod in m.modules():  # running statistics other than 0 and 1, so that they are checked too
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 1.5)
    return m.eval()


ARCHITECTURES: dict[str, Callable[[], tuple[nn.Module, torch.Tensor]]] = {
    "resnet": lambda: (seeded(ResNet), torch.randn(2, 3, 16, 16)),
    "mobilenetv2": lambda: (seeded(MobileNetV2), torch.randn(2, 3, 16, 16)),
    "vgg_bn": lambda: (seeded(vgg_bn), torch.randn(2, 3, 16, 16)),
    "text_lstm": lambda: (seeded(TextLSTM), torch.randint(0, 50, (2, 7))),
    "transformer": lambda: (seeded(Transformer), torch.randn(2, 6, 16)),
    "unet": lambda: (seeded(UNet), torch.randn(2, 3, 16, 16)),
}


def export(module: nn.Module, sample: torch.Tensor, path: Path, exporter: str, opset: int | None = None) -> Path:
    """Write ``module`` to ``path`` with torch's TorchScript exporter or its dynamo one, the batch free
    (at torch's default opset unless ``opset`` is given)."""
    with warnings.catch_warnings():  # not under no_grad: torch would trace its fused encoder-layer kernel
        warnings.simplefilter("ignore")
        if exporter == "torchscript":
            torch.onnx.export(module, (sample,), str(path), dynamo=False, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=opset)
        else:
            batch = torch.export.Dim("N", min=1, max=1024)
            torch.onnx.export(module, (sample,), str(path), dynamo=True, input_names=["x"], output_names=["y"],
                              dynamic_shapes=({0: batch},), verbose=False)
    return path


__all__ = ["ARCHITECTURES", "EXPORTERS", "TextRNN", "export", "seeded"]
