"""LeNet5: the classic convolutional network, sized for 28x28 (MNIST) or 8x8 (digits) images.

    image -> [conv 5x5 -> ReLU -> max-pool 2x2] x 2 -> flatten -> 120 -> 84 -> classes

A convolution slides one small set of weights over the whole image (shared weights), so it
finds the same pattern wherever it appears, with far fewer parameters than a dense layer.
"""
from .. import nn


class LeNet5(nn.Module):
    """Two conv blocks and three dense layers. For 28x28 images the classic shapes (5x5
    kernels, 6 and 16 channels); for small images (under 16 pixels a side, e.g. 8x8 digits)
    3x3 kernels with padding and wider channels, so the two poolings leave a 2x2 map."""

    def __init__(self, in_channels=1, num_classes=10, image_size=28, channels=None, dropout=0.0):
        super().__init__()
        if image_size < 8:
            raise ValueError(f"LeNet5: images must be at least 8x8, got {image_size}")
        small = image_size < 16
        c1, c2 = channels or ((32, 64) if small else (6, 16))
        kernel, pad1, pad2 = (3, 1, 1) if small else (5, 2, 0)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, kernel, padding=pad1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, kernel, padding=pad2), nn.ReLU(), nn.MaxPool2d(2),
        )
        side = image_size // 2 if small else image_size // 2 - 4
        side //= 2
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * side * side, 120), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
