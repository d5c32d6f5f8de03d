"""Atomic writes (deepprimer/atomic.py): the target appears whole or not at all."""
import os
import stat

import pytest

from deepprimer.atomic import atomic_path, write_text


def test_the_file_appears_only_when_complete_and_with_normal_permissions(tmp_path):
    target = tmp_path / "sub" / "notes.txt"  # missing directories are made
    with atomic_path(target) as tmp:
        assert os.path.dirname(tmp) == str(target.parent) and not target.exists()
        with open(tmp, "w") as handle:
            handle.write("done")
    assert target.read_text() == "done" and os.listdir(target.parent) == ["notes.txt"]
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "model.txt"
    write_text(target, "old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target, suffix=".png") as tmp:
            assert tmp.endswith(".png")
            with open(tmp, "w") as handle:
                handle.write("half")
            raise KeyboardInterrupt
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["model.txt"]


def test_a_missing_directory_can_be_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        with atomic_path(tmp_path / "nowhere" / "x.npz", make_dirs=False):
            pass


def test_a_link_is_written_through_and_a_file_keeps_its_permissions(tmp_path):
    real, link = tmp_path / "real.txt", tmp_path / "link.txt"
    real.write_text("old")
    os.chmod(real, 0o600)
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
