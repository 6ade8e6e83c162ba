# trace-sidecar: built on Debian bookworm, run on bookworm-slim with only the runtime
# libraries, as a non-root user, with the data on a volume.
#
#   docker build -t trace-sidecar .
#   docker run -d --name sidecar -p 8080:8080 -p 127.0.0.1:8081:8081 \
#     -v trace-data:/var/lib/trace-sidecar trace-sidecar --upstream http://app:9000/
#
# The API (8081) carries Basic credentials and every recorded exchange: publish it on the
# host's loopback (as above) or a private network only, never on every interface.
# Check a configuration before deploying or reloading it (docs/operations.md):
#   docker run --rm -v $PWD/my.toml:/etc/trace-sidecar/trace-sidecar.toml trace-sidecar --check-config
# Reload the running one without a restart: docker kill -s HUP sidecar

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps --build && rm -rf /var/lib/apt/lists/*
COPY . .
# The release preset builds an instrumented copy first and runs its training load (webhooks
# through a proxy and an upstream on the build container's loopback, recorded under /tmp) for
# the profile that guides the optimised build (docs/architecture.md, "Building and testing").
RUN cmake --preset release -DSIDECAR_TESTS=OFF -DSIDECAR_BENCH=OFF \
 && cmake --build --preset release --target trace-sidecar \
 && strip -o /trace-sidecar build/release/trace-sidecar

FROM debian:bookworm-slim
# The shared libraries the binary links, CA certificates for https upstreams, and curl for
# the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libboost-url1.81.0 librocksdb7.8 libisal2 libjemalloc2 libsimdjson14 libtomlplusplus3 \
      libssl3 zlib1g \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/trace-sidecar \
      --shell /usr/sbin/nologin sidecar \
 && install -d -o sidecar -g sidecar -m 0700 /var/lib/trace-sidecar
COPY --from=build /trace-sidecar /usr/local/bin/trace-sidecar
COPY scripts/healthcheck /usr/local/bin/trace-sidecar-healthcheck
# Listeners on 0.0.0.0 with allow_insecure = true (explained in the file); mount your own
# config over it for routes and accounts.
COPY examples/docker.toml /etc/trace-sidecar/trace-sidecar.toml

USER sidecar
WORKDIR /var/lib/trace-sidecar
VOLUME /var/lib/trace-sidecar
EXPOSE 8080 8081
# Liveness: /healthz on the API address the configuration file names (a mounted file that
# moves the API or turns TLS on needs no change here). It never depends on the store: a
# full disk stops recording, not traffic; GET /status says which part fails.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD trace-sidecar-healthcheck /etc/trace-sidecar/trace-sidecar.toml || exit 1
# SIGTERM (docker stop) drains in-flight exchanges and flushes queued records, then exits 0;
# keep docker stop's timeout above [proxy] drain_timeout (10s by default: use -t 20).
STOPSIGNAL SIGTERM
ENTRYPOINT ["trace-sidecar", "--config", "/etc/trace-sidecar/trace-sidecar.toml"]
