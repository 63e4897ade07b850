# syntax=docker/dockerfile:1
FROM debian:bookworm-slim AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
    ca-certificates \
    curl \
    xz-utils \
 && curl -fsSL https://example.com/tool.tar.xz | tar -xJ -C /opt \
 && rm -rf /var/lib/apt/lists/*

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
    ca-certificates \
    tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 app
COPY --from=build /opt/tool /opt/tool
WORKDIR /srv
COPY --chown=app:app app/ ./
USER app
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["/opt/tool/bin/tool", "serve"]
