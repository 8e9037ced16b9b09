"""The conformance suite's library: profile, compose command lines, engine, load, emulation; no pytest."""
