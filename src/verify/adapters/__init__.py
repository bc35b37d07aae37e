"""Adapters: persistence, files and everything else that touches the world outside."""
