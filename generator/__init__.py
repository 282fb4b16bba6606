"""showcase: a static-site generator for 创先争优 model-worker campaigns."""

__version__ = "0.1.0"
