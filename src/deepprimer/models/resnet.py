"""A small ResNet: convolutional stages built from residual blocks.

A residual block computes ``relu(x + F(x))``: the skip connection carries x past the two
convolutions unchanged, so a deep stack can always fall back to the identity and
gradients reach early layers undiminished (the primer's skip connections).
"""
from .. import nn
from ..ops.elementwise import relu


class BasicBlock(nn.Module):
    """conv 3x3 - BN - ReLU - conv 3x3 - BN, plus the input (projected when the shape changes)."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels),
        )
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        return relu(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    """stem conv -> stages of BasicBlocks (each later stage halves the size, widens) -> global
    average pool -> linear classifier."""

    def __init__(self, in_channels=1, num_classes=10, widths=(16, 32, 64), blocks_per_stage=1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())
        blocks, channels = [], widths[0]
        for stage, width in enumerate(widths):
            for i in range(blocks_per_stage):
                blocks.append(BasicBlock(channels, width, stride=2 if stage > 0 and i == 0 else 1))
                channels = width
        self.stages = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))
