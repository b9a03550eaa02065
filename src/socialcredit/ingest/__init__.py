"""Ingestion: every fact enters through here, from a registered source, validated row by row."""
