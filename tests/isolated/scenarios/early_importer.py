"""Imported by early_imports.py before patching, to be named in the warning."""

from socket import socket  # noqa: F401
from threading import Lock  # noqa: F401
