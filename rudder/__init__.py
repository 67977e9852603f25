"""align-rudder (top-level exports are added once all layers exist)."""

__version__ = "0.1.0"
