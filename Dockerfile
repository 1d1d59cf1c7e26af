# Shrinkage Lab: the app, served by Streamlit on port 8501.
#   docker build -t shrinkage-lab .
#   docker run --rm -p 8501:8501 shrinkage-lab        # then open http://localhost:8501
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The app's pinned dependencies only (the same as the README's "start the app" command;
# also enough for the `python -m lmm_core` command line); a layer of its own so that code
# changes do not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

# The code belongs to root and is only readable by the user without privileges that runs
# the server (the app writes nothing next to its code).
COPY . .
RUN useradd --create-home --uid 10001 lab
USER lab

EXPOSE 8501

# Streamlit answers "ok" on its health endpoint once it can serve sessions.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4); sys.exit(0 if r.read() == b'ok' else 1)"]

# .streamlit/config.toml (copied with the code) sets headless, no file watcher, no usage stats.
# app_shell.serve is `streamlit run app.py` with the restart patch installed before the first
# request (open tabs keep working after a restart; see app_shell/restart.py).
CMD ["python", "-m", "app_shell.serve", "--server.port=8501", "--server.address=0.0.0.0"]
