"""virnucpro: viral sequence identification with the VirNucPro method."""

__version__ = "0.1.0"
