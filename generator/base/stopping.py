"""Whether the build was asked to stop (Ctrl-C or kill). The signal handler raises
KeyboardInterrupt, but Python drops an exception raised while it runs a finalizer or a
callback; the flag set here lets the steps that publish the output refuse all the same."""

from __future__ import annotations

_asked = False


def ask() -> None:
    """Remember that the build was asked to stop."""
    global _asked
    _asked = True


def forget() -> None:
    """Forget the request (a new build begins in the same process)."""
    global _asked
    _asked = False


def check() -> None:
    """Raise KeyboardInterrupt when the build was asked to stop, even if the signal handler's
    own exception was dropped."""
    if _asked:
        raise KeyboardInterrupt
