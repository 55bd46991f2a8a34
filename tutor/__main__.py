"""The ``tutor`` command's entry point, also run by ``python -m tutor``."""

import gc


def run() -> None:
    """Run ``tutor``. Cycle collection waits until start-up is over: it makes tens of
    thousands of lasting objects and no garbage (see tutor.cli.start_up_over)."""
    gc.disable()
    from tutor.cli import main  # imported after the line above, which is its point

    main()


if __name__ == "__main__":
    run()
