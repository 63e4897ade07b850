FROM alpine:3.20

LABEL maintainer="web team"

ENV NGINX_VERSION=1.27.3

RUN set -x \
    && addgroup -g 101 -S nginx \
    && adduser -S -D -H -u 101 -h /var/cache/nginx -s /sbin/nologin -G nginx -g nginx nginx \
    && apk add --no-cache --virtual .build-deps \
        gcc \
        libc-dev \
        make \
        openssl-dev \
        pcre2-dev \
        zlib-dev \
    && apkArch="$(cat /etc/apk/arch)" \
    && case "$apkArch" in \
        x86_64|aarch64) apk add --no-network /tmp/packages/nginx-${NGINX_VERSION}.apk ;; \
        *) echo "unsupported: $apkArch" ;; \
    esac \
    && runDeps="$( scanelf --needed --nobanner /usr/sbin/nginx | awk '{ print "so:" $2 }' | sort -u )" \
    && apk del --no-network .build-deps \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log

COPY docker-entrypoint.sh /
EXPOSE 80
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
