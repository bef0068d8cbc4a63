"""The domain imports only the standard library, numpy (arrays are plain data) and itself: no
database, web or solver code."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import dom.domain

DOMAIN = Path(dom.domain.__file__).parent


def test_the_domain_imports_only_the_standard_library_and_numpy() -> None:
    offenders = []
    for path in sorted(DOMAIN.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in ("dom", "__future__", "numpy") and top not in sys.stdlib_module_names:
                    offenders.append(f"{path.relative_to(DOMAIN)}: {name}")
                if top == "dom" and not name.startswith("dom.domain"):
                    offenders.append(f"{path.relative_to(DOMAIN)}: {name}")
    assert offenders == []
