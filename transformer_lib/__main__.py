"""Permite ejecutar ``python -m transformer_lib <subcomando> ...`` (ver :mod:`transformer_lib.cli`)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
