"""Folders several people share: a group's results folder (its records, .locks and .checkpoints), a sweep's logs,
MNIST. Can this user create files where grokkit is about to write? Checked before any training, so that a folder
another user created under umask 022 stops the run at once with one line naming the folder, the setting that chose
it and the fix -- never "No such file or directory", and never only after the first checkpoint's steps have trained.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

RESULTS = "GROKKIT_RESULTS (or --results)"  # the setting that names the results folder


def other_owner(path) -> str | None:
    """The login name (else the user id) of `path`'s owner when that is not this user (POSIX); else None."""
    if not hasattr(os, "getuid"):
        return None
    try:
        uid = Path(path).stat().st_uid
    except OSError:
        return None
    if uid == os.getuid():
        return None
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def describe(path) -> str:
    """`path`'s mode and owner for a message: "drwxr-xr-x, peer's" (or "yours")."""
    try:
        mode = stat.filemode(os.stat(path).st_mode)
    except OSError:
        return "not found"
    who = other_owner(path)
    return f"{mode}, {who}'s" if who else f"{mode}, yours"


def writable(folder, setting: str) -> Path:
    """`folder`, created when missing, once this user could create a file in it (a probe file, created and removed
    at once: the call records.atomic_write makes). Else an OSError (PermissionError for a permission) naming the
    nearest folder that exists on the way to it, its mode and owner, `setting` and the fix."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".grokkit-probe-", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise unusable(folder, setting, e) from None
    return folder


def unusable(folder, setting: str, e: OSError) -> OSError:
    """The one-line error for a folder in which this user cannot create files (see `writable`)."""
    at = Path(folder)
    while not at.is_dir() and at != at.parent:  # mkdir failed: the folder it would be made in is the one at fault
        at = at.parent
    fix = f"or set {setting} to a folder of your own"
    if e.errno in (errno.EACCES, errno.EPERM):
        who = other_owner(at)
        fix = (f"ask {who} to run `chmod -R g+w {at}` (and to create files under `umask 002`), " if who
               else f"run `chmod -R u+w {at}`, ") + fix
    return OSError(e.errno or errno.EACCES, f"this user cannot create files in this folder ({e.strerror or e}; "
                                            f"{describe(at)}); {fix}", str(at))


def results_writable(results_dir, checkpoints: bool = False, locks: bool = False) -> None:
    """Before training: the results folder takes new files (the record), and so do its .locks (a run's lock) and
    .checkpoints (every config.checkpoint_every steps) where the run uses them. Each is created when missing; one
    that is not usable raises `writable`'s one-line OSError naming it and GROKKIT_RESULTS."""
    results_dir = Path(results_dir)
    for sub in ("", ".locks" if locks else None, ".checkpoints" if checkpoints else None):
        if sub is not None:
            writable(results_dir / sub, RESULTS)


def lock_unusable(path, e: OSError) -> OSError:
    """The one-line error when a lock file that this user may only read cannot be locked ("[Errno 9] Bad file
    descriptor": on NFS an exclusive lock needs a file open for writing)."""
    who = other_owner(path)
    ask = f"ask {who} to run `chmod g+w {path}` (and to create files under `umask 002`)" if who else \
        f"run `chmod u+w {path}`"
    return OSError(e.errno, f"this run's lock file is read-only for you ({describe(path)}) and this filesystem "
                            f"(e.g. NFS) locks only a file open for writing ({e.strerror or e}); {ask}, or delete it "
                            f"while no one trains this run (it holds nothing), or set {RESULTS} to a folder of your "
                            f"own", str(path))


def unreadable(path, what: str, setting: str, e: OSError) -> OSError:
    """The one-line error for a file this user cannot read (another user's, mode 0600): it is not corrupt."""
    who = other_owner(path)
    ask = f"ask {who} to run `chmod a+r {path}`" if who else f"run `chmod u+r {path}`"
    return OSError(e.errno, f"{what} cannot be read by this user ({e.strerror or e}; {describe(path)}) -- the file "
                            f"is not corrupt; {ask}, or set {setting} to a folder of files you can read", str(path))
