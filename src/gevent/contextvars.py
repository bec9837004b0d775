"""Context variables for greenlets.

Every greenlet (greenlet >= 1.0) runs in its own :class:`contextvars.Context`, so the standard
library module already behaves per greenlet; this module re-exports it for the code that imports
``gevent.contextvars`` (and for ``monkey.patch_all(contextvars=True)``).
"""

from contextvars import Context, ContextVar, Token, copy_context

__implements__ = ["ContextVar", "Context", "Token", "copy_context"]
__all__ = ["ContextVar", "Context", "Token", "copy_context"]
