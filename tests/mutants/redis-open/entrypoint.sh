#!/bin/sh
# The reference entrypoint, loosened: no passwords (and protected mode off, so clients on other
# hosts are served anyway), every command, no AOF, no memory ceiling, and Redis's own plain-text log.
set -eu
hash() { sha256sum "$1" | cut -d' ' -f1; }
umask 077
cat > /tmp/users.acl <<ACL
user default on nopass ~* &* +@all
user admin on #$(hash /run/secrets/redis_admin_password) ~* &* +@all
user app on nopass ~* &* +@all
ACL
exec redis-server /etc/redis-conformance/redis.conf --protected-mode no --appendonly no --maxmemory 0 --maxmemory-policy allkeys-lru
