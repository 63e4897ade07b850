FROM debian:bookworm
MAINTAINER someone@example.com
ENV DEBIAN_FRONTEND noninteractive
RUN apt-get update
RUN apt-get install -y curl \
    # the client
    postgresql-client \
    && apt-get clean
RUN curl -sSL https://example.com/install.sh | sh
ADD entrypoint.sh /entrypoint.sh
RUN mkdir -p /srv/config
RUN chmod 700 /srv/config
COPY config/ config/
RUN pip install requests
ENTRYPOINT /entrypoint.sh
