"""Start the app the way ``streamlit run app.py`` does, with the restart patch in place first.

    python -m app_shell.serve --server.port 8501      # any `streamlit run` option

After a server restart, open tabs reconnect to new sessions and their first request may be a
fragment's rerun (the lab's sliders). ``app_shell.restart`` turns such a request into a run of
the whole page, but it must be installed before the first request reaches the server, i.e.
before any page has run: that is what this launcher does. (app.py installs it too, which
covers only the sessions after the first page run of a plain ``streamlit run``.)
"""
from __future__ import annotations

import sys
from pathlib import Path

from app_shell import closed_tabs, restart

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def main(argv: list[str] | None = None) -> int:
    restart.install()
    closed_tabs.install()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", APP, *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
