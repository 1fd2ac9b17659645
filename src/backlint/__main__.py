"""``python -m backlint`` and the ``backlint`` command (``run``).

``run`` catches Ctrl-C around the import of the CLI too, so that an interruption at any
moment, even while starting, exits 130 with one line instead of a traceback. Once a
command runs, ``cli`` handles it (and stops the workers of the file pass).
"""

from __future__ import annotations

import sys

# 128 + SIGINT, as ``cli.EXIT_INTERRUPTED`` (not imported: this runs before the CLI is).
_EXIT_INTERRUPTED = 130


def run() -> None:
    try:
        from backlint.cli import main

        main()
    except KeyboardInterrupt:
        sys.stderr.write("backlint: interrupted\n")
        sys.exit(_EXIT_INTERRUPTED)


if __name__ == "__main__":
    run()
