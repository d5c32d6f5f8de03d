"""History: what happened in each epoch of ``fit``, as lists you can plot."""


class History:
    """Per-epoch lists: ``loss``, ``val_loss``, each metric and ``val_`` metric, ``lr``, ``time``.

    ``history["val_loss"]`` and ``history.history["val_loss"]`` (Keras's spelling) both work.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def append(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key):
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def keys(self):
        return self.history.keys()

    def best(self, monitor="val_loss", mode="min"):
        """(epoch index, value) of the best value of ``monitor``."""
        values = self.history[monitor]
        pick = min if mode == "min" else max
        index = values.index(pick(values))
        return index, values[index]

    def __len__(self):
        return len(self.epoch)

    def __repr__(self):
        last = {k: round(v[-1], 4) if isinstance(v[-1], float) else v[-1] for k, v in self.history.items()}
        return f"History({len(self)} epochs, last: {last})"
