"""The domain imports only the standard library and itself: no database, web or solver code."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import dom.domain

DOMAIN = Path(dom.domain.__file__).parent


def test_the_domain_imports_only_the_standard_library() -> None:
    offenders = []
    for path in sorted(DOMAIN.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top != "dom" and top not in sys.stdlib_module_names and top != "__future__":
                    offenders.append(f"{path.name}: {name}")
                if top == "dom" and not name.startswith("dom.domain"):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
