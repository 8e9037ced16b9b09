"""The Docker engine and compose: projects, their files, containers, platforms and cleanup."""
