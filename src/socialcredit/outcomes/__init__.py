"""Outcomes: running evaluations into the store, and serving what they decided (gate checks,
public lists, the operator dashboard's aggregates)."""
