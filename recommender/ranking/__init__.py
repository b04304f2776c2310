"""Turning scored candidates into lists: the one scoring formula, diversity and editorial rules."""
