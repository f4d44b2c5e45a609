"""A local AMC: the reporting API, discovery and Login with Amazon on synthetic data."""

from __future__ import annotations
