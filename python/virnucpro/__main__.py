"""Allow `python -m virnucpro`."""

from virnucpro.cli import main

if __name__ == "__main__":
    main()
