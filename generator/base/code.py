"""The version of the generator's own code, as a digest of its files."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path


@functools.cache
def code_digest() -> str:
    """A digest of the generator's own code: what a build makes depends on it as much as on
    the source, so a changed generator never reuses pages made by the old one."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".yaml") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def helper_process(module: str) -> tuple[list[str], dict[str, str], str]:
    """How to start ``module`` (of this package) in a fresh Python process: its command, its
    environment and its working folder. -P, and the folder that holds this package as the
    working folder and first on PYTHONPATH: nothing in the folder the caller was started
    from (often the site's, whose content is not to be trusted) is imported."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return [sys.executable, "-P", "-m", module], env, root
