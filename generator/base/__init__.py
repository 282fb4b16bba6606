"""Helpers every layer may use: diagnostics, configuration, editor messages, Chinese names."""
