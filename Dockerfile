# syntax=docker/dockerfile:1
# cloudcensus container image: a --locked release build, run as a non-root user on a small
# Debian runtime with CA certificates (TLS to the cloud APIs and to PostgreSQL with
# sslmode=verify-full). The binary is the entrypoint: `docker run IMAGE scan --config ...`.
#
#   docker build -t cloudcensus:0.1.0 .
#   docker build --build-arg FEATURES="--no-default-features" -t cloudcensus:demo .
#
# The full build (AWS, Azure and Google connectors) compiles the cloud SDKs: give the
# builder at least 10 GB of memory (aws-sdk-ec2 alone needs ~8 GB) and 20-40 minutes on
# two cores. FEATURES="--no-default-features" builds without connectors (demo, import,
# report, rollup; ~4 minutes). tests/container_files.rs checks this file against the CLI.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
ARG FEATURES=""
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --release ${FEATURES} --bin cloudcensus \
    && install -D -m 0755 target/release/cloudcensus /out/cloudcensus

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 cloudcensus \
    && useradd --uid 10001 --gid 10001 --home-dir /var/lib/cloudcensus --create-home \
       --shell /usr/sbin/nologin cloudcensus
COPY --from=build /out/cloudcensus /usr/local/bin/cloudcensus
USER 10001:10001
WORKDIR /var/lib/cloudcensus
ENTRYPOINT ["/usr/local/bin/cloudcensus"]
CMD ["--help"]
