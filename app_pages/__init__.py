"""The app's pages, one file per page (layout and widgets only); app.py routes to them."""
