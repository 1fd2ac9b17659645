"""``backlint server`` with a fault: BL602 raises on a function named ``explode``.

How ``tests/test_lsp.py`` proves that a rule crashing on a buffer becomes a
``window/logMessage`` and the server goes on. backlint loads no rule from outside its
package, and a real crash is a bug that gets fixed (taking its test with it), so the
fault is injected here, in the server's own process, before the real server starts.

The file pass runs a single changed file in the server's process (more run in worker
processes, which do not import this module): the test opens a clean buffer first, so
that only the edited buffer is checked again when the fault is typed in.
"""

from __future__ import annotations

from typing import Any

from backlint.lsp import serve
from backlint.rules.annotations.missing_return_annotation import MissingReturnAnnotation

FAULT = "explode"


def _inject() -> None:
    original = MissingReturnAnnotation.visit_FunctionDef

    def visit_function_def(self: MissingReturnAnnotation, node: Any) -> None:
        if node.name.value == FAULT:
            raise RuntimeError("injected fault")
        original(self, node)

    MissingReturnAnnotation.visit_FunctionDef = visit_function_def  # type: ignore[method-assign]


if __name__ == "__main__":
    _inject()
    serve()
