"""The ``tutor`` command's entry point, also run by ``python -m tutor``."""

import gc
import os
import sys
from pathlib import Path


def run() -> None:
    """Run ``tutor``. Cycle collection waits until start-up is over: it makes tens of
    thousands of lasting objects and no garbage (see tutor.cli.start_up_over)."""
    gc.disable()
    _missing_streams_to_null()
    _tolerant_streams()
    from tutor.cli import main  # imported after the line above, which is its point

    main()


def _missing_streams_to_null() -> None:
    """A standard stream closed by the caller (``tutor quiz <&-``) is None in Python: read as
    input that has already ended, and written to nowhere, like any other end of input."""
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:  # the file lives as long as the process
            setattr(sys, name, Path(os.devnull).open(mode, encoding="utf-8"))  # noqa: SIM115


def _tolerant_streams() -> None:
    """Bytes typed that are not text in the terminal's encoding are read as U+FFFD (an
    unreadable answer, asked again), and characters the terminal cannot show are written as
    '?', instead of ending the program in the middle of a quiz."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


if __name__ == "__main__":
    run()
