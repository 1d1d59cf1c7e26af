"""``python -m lmm_core ...``: see lmm_core/cli.py."""
import sys

from .cli import main

sys.exit(main())
