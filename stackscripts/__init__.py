"""stackscripts: ServerTemplate-style script composition with a durable record of every step."""

__version__ = "0.1.0"
