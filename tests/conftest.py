"""What every test process shares: one fresh smoke-scale folder per test run, and one torch thread per xdist worker.

- Smoke folder. The chapters under nbval, the papermill and sweep tests and the in-process chapter tests draw the same
  smoke-scale stand-ins (grokkit.chapters.stand_in). Unless GROKKIT_SMOKE_DIR is set, the run gets one new temporary
  folder for them, set before any worker or kernel starts so that every process of the run inherits it: each stand-in
  is trained once per test run (grokkit.records.lock keeps two workers from training the same one), and none is left
  over from an earlier run of older code. The folder is removed at the end.
- Threads. Under `-n N` each worker is a process of its own; with torch's default (one thread per core) N workers on
  N cores run N x N threads, and OpenMP's spinning threads then starve each other (one engine test took 630 s instead
  of about 20 s on a 2-core machine). Each worker therefore takes one thread, and so do the processes it starts (the
  chapters' kernels, the CLI and papermill runs): OMP_NUM_THREADS and MKL_NUM_THREADS are set before they start. A
  serial run keeps torch's default.
"""
import os
import shutil
import tempfile

_made = []


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
        import torch

        torch.set_num_threads(1)
    elif not os.environ.get("GROKKIT_SMOKE_DIR"):  # the controller (or a serial run), before any worker starts
        _made.append(tempfile.mkdtemp(prefix="grokkit-test-smoke-"))
        os.environ["GROKKIT_SMOKE_DIR"] = _made[0]


def pytest_unconfigure(config):
    for path in _made:
        shutil.rmtree(path, ignore_errors=True)
