"""What a candidate is scored on: neighbourhoods and words (similarity), recency, popularity,
co-reading, and the story an article belongs to."""
