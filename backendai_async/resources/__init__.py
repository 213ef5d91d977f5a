"""Thin resource namespaces (``client.sessions``, ``client.auth`` …) over ``Client._send``."""
