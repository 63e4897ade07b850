# syntax=docker/dockerfile:1
FROM ubuntu:24.04

RUN <<EOT bash
  set -euo pipefail
  apt-get update
  apt-get install -y --no-install-recommends curl
  curl -fsSL https://example.com/key | gpg --dearmor -o /usr/share/keyrings/example.gpg
  rm -rf /var/lib/apt/lists/*
EOT

COPY <<EOF /etc/app/config.ini
[server]
FROM = ubuntu
CMD run
EOF

COPY --chmod=755 <<-"SCRIPT" /usr/local/bin/entrypoint
	#!/bin/sh
	exec "$@"
	SCRIPT

RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked <<'EOT'
apt-get update
apt-get install -y --no-install-recommends jq
EOT

ENTRYPOINT ["/usr/local/bin/entrypoint"]
