"""Deployment: HAProxy in front of several app replicas (see replicas.py, compose.yaml)."""
