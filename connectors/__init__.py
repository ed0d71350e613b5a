"""Vendor connectors: plain Python (no Django) that read vendor APIs into unified records."""
