"""Progress display for ``fit``: a Keras-like bar per epoch, a line per epoch, or nothing.

    epoch 3/30 ━━━━━━━━━━━━ 28/28, loss 0.2100 acc 0.9400 val_loss 0.2500 val_acc 0.9300 0.4s

On a terminal a tqdm bar fills while the epoch runs; when output goes to a file or a pipe
(CI, logs) only the finished line is printed; ``verbose=0`` prints nothing.
"""
import shutil
import sys

SHORT_NAMES = {"accuracy": "acc", "val_accuracy": "val_acc"}


def format_logs(logs):
    parts = []
    for key, value in logs.items():
        if key in ("lr", "time", "epoch"):
            continue
        parts.append(f"{SHORT_NAMES.get(key, key)} {value:.4f}")
    return " ".join(parts)


def format_seconds(seconds):
    """'12ms' below a second, '3.4s' above: fast epochs should not all read '0.0s'."""
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


class EpochProgress:
    """Shows one epoch; ``verbose``: 0 quiet, 1 a bar on a terminal else a line, 2 a line."""

    def __init__(self, epoch, epochs, steps, verbose=1, stream=None):
        self.stream = stream or sys.stderr
        self.prefix = f"epoch {epoch + 1}/{epochs}"
        self.steps = steps
        self.verbose = verbose
        self.bar = None
        if verbose == 1 and self.stream.isatty():
            from tqdm.auto import tqdm

            columns = shutil.get_terminal_size(fallback=(100, 24)).columns or 100  # 0 on a sizeless pty
            self.bar = tqdm(
                total=steps, desc=self.prefix, file=self.stream, ascii=" ━", leave=True,
                bar_format="{desc} {bar:30} {n_fmt}/{total_fmt}{postfix}", ncols=columns,  # tqdm puts ", " before the postfix
            )

    def update(self, loss):
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"loss {loss:.4f}", refresh=False)

    def close(self, logs, seconds):
        summary = f"{format_logs(logs)} {format_seconds(seconds)}"
        if self.bar is not None:
            self.bar.set_postfix_str(summary)
            self.bar.close()
        elif self.verbose:
            print(f"{self.prefix} {self.steps}/{self.steps} {summary}", file=self.stream, flush=True)
