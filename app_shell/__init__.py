"""app_shell: the app's plumbing shared by the pages.

- ``ui``: the data-set and model chooser, cached fits, figure display with captions;
- ``presenter``: presenter mode (large text, no sidebar) for a lecture;
- ``walkthrough_content``: the guided walkthrough's steps, texts, questions and feedback.

Pages (``app_pages/``) import from here and from ``charts``; the numbers come from ``teaching``.
"""
