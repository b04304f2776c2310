"""Answering list requests: the engine, its in-memory columns, requests and JSON views."""
