"""Atomic writes: every file deepprimer writes goes to a temporary name beside its target
and is renamed into place only once it is complete, so a crash (or Ctrl-C) mid-write
leaves the previous file intact, never half a checkpoint, CSV or figure.
"""
import contextlib
import os
import secrets
import stat


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp", make_dirs=True, durable=False):
    """Yield a fresh temporary path next to ``path`` to write to. When the block ends
    normally it is renamed to ``path``; on any error it is deleted.

    ``suffix`` keeps an extension for writers that go by it (Pillow, matplotlib). With
    ``make_dirs`` missing parent directories are created; without, a missing directory is a
    FileNotFoundError naming it. ``durable`` (checkpoints) also flushes the file and the
    rename to disk, so they survive a power cut, not just a crash.
    """
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    path = os.path.realpath(path)  # through a symbolic link to its target, as a plain open writes
    directory = os.path.dirname(path)
    if make_dirs:
        os.makedirs(directory, exist_ok=True)
    elif not os.path.isdir(directory):
        raise FileNotFoundError(f"the directory of {path!r} does not exist ({directory})")
    tmp = _reserve(directory, os.path.basename(path), suffix)
    with contextlib.suppress(OSError):  # a file rewritten keeps its permissions
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
    try:
        yield tmp
        if durable:
            _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync(directory)


def _fsync(name):
    """Flush a file, or a directory's entries (POSIX), to disk; a no-op where it cannot be opened."""
    try:
        fd = os.open(name, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)


def _reserve(directory, base, suffix):
    """Create a new empty file next to the target (the rename then stays on one file
    system) with the permissions a plain open would give it (0666 less the umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(4)}{suffix}")
        try:
            os.close(os.open(tmp, flags, 0o666))
            return tmp
        except FileExistsError:
            continue
