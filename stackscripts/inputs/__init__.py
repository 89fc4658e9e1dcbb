"""Inputs 2.0: the value grammar, precedence and credential backends."""
