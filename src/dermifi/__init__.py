"""Dermifi: a REST API server for dermatology practices."""

__version__ = "0.1.0"
