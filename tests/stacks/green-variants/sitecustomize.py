"""A metrics client's UDP socket, as a statsd client keeps one: bound by the kernel to an ephemeral port when it
first sends, and never a listener."""

import socket

METRICS = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
METRICS.sendto(b"api.started:1|c", ("127.0.0.1", 8125))
