"""The warning monkey patching gives, and how queued warnings are emitted."""

from __future__ import annotations

import warnings

__all__ = ["MonkeyPatchWarning", "queue_warning", "process_warnings"]


class MonkeyPatchWarning(RuntimeWarning):
    """Something about monkey patching (its order, usually) may make the program misbehave."""


def queue_warning(message: str, pending: list[str] | None) -> None:
    """Emit *message* now, or add it to *pending* for :func:`process_warnings` (patch_all)."""
    if pending is None:
        warnings.warn(message, MonkeyPatchWarning, stacklevel=4)
    else:
        pending.append(message)


def process_warnings(pending: list[str]) -> None:
    # process_warnings <- patch_all <- the caller of patch_all
    for message in pending:
        warnings.warn(message, MonkeyPatchWarning, stacklevel=3)
