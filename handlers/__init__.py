"""The command language: parse a text into a command, answer it with a ``Reply`` using ``core``."""
