"""Getting articles and reading events in: field rules, file formats, MIND, ingest and
live upserts."""
