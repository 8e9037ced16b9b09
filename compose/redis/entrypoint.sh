#!/bin/sh
# Writes the ACL file from the mounted secrets (as SHA-256 hashes, never plain) and starts Redis.
set -eu
hash() { sha256sum "$1" | cut -d' ' -f1; }
umask 077
cat > /tmp/users.acl <<ACL
user default off
user admin on #$(hash /run/secrets/redis_admin_password) ~* &* +@all
user app on #$(hash /run/secrets/redis_password) ~session:* resetchannels -@all +@read +@write +@keyspace +@connection +@transaction -@dangerous
ACL
exec redis-server /etc/redis-conformance/redis.conf
