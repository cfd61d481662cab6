"""The SDK: one client interface over two backends, local (in-process) and remote (HTTP)."""

from loopline.client.client import Client

__all__ = ["Client"]
