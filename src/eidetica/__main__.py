"""``python -m eidetica``: the same as the ``eidetica`` command."""

from .cli import main

main()
