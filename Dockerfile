# trace-sidecar: built on Debian bookworm, run on bookworm-slim with only the runtime
# libraries, as a non-root user, with the data on a volume.
#
#   docker build -t trace-sidecar .
#   docker run -d --name sidecar -p 8080:8080 -p 8081:8081 -v trace-data:/var/lib/trace-sidecar \
#     trace-sidecar --upstream http://app:9000/

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake --preset release -DSIDECAR_TESTS=OFF -DSIDECAR_BENCH=OFF \
 && cmake --build --preset release --target trace-sidecar \
 && strip -o /trace-sidecar build/release/trace-sidecar

FROM debian:bookworm-slim
# The shared libraries the binary links, CA certificates for https upstreams, and curl for
# the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libboost-url1.81.0 librocksdb7.8 libsimdjson14 libtomlplusplus3 libssl3 zlib1g \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/trace-sidecar \
      --shell /usr/sbin/nologin sidecar \
 && install -d -o sidecar -g sidecar -m 0700 /var/lib/trace-sidecar
COPY --from=build /trace-sidecar /usr/local/bin/trace-sidecar
# Listeners on 0.0.0.0 with allow_insecure = true (explained in the file); mount your own
# config over it for routes and accounts.
COPY examples/docker.toml /etc/trace-sidecar/trace-sidecar.toml

USER sidecar
WORKDIR /var/lib/trace-sidecar
VOLUME /var/lib/trace-sidecar
EXPOSE 8080 8081
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8081/healthz || exit 1
# SIGTERM (docker stop) drains in-flight exchanges and flushes queued records, then exits 0;
# keep docker stop's timeout above [proxy] drain_timeout (10s by default: use -t 20).
STOPSIGNAL SIGTERM
ENTRYPOINT ["trace-sidecar", "--config", "/etc/trace-sidecar/trace-sidecar.toml"]
