"""The stack profile: its schema, the file it is read from, and the rules across its values."""
