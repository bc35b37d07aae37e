"""The use cases: commands that append events, queries that return plain documents."""
