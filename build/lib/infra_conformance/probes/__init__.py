"""Probes of a running stack: logins, backups, TLS, sockets, leaks and tenant rows."""
