"""``python -m teaching ...``: see teaching/cli.py."""
import sys

from .cli import main

sys.exit(main())
