# syntax=docker/dockerfile:1
#
# idpc-hub container image: a release build in a Rust builder stage, then a small
# Debian runtime with only the binary and CA certificates.
#
#   docker build -t idpc-hub .
#   docker run --rm -p 127.0.0.1:8080:8080 -v idpc-hub-data:/app/data idpc-hub
#
# Without DATABASE_URL the service uses SQLite at /app/data/idpc-hub.db (relative to
# WORKDIR /app). See docker-compose.yml for PostgreSQL + Mailpit, and .env.example
# for every setting.

# ---------------------------------------------------------------------------
# Builder: Rust >= 1.88 (edition 2024). SQLite, libpq and OpenSSL are bundled /
# vendored by the crate, so only a C toolchain, make, perl and cmake are needed
# (gcc, make and perl ship with the rust image).
# ---------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder

RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Manifest and lock file first; --locked refuses to build if they disagree.
COPY Cargo.toml Cargo.lock ./
# migrations/ is embedded by diesel's embed_migrations!, src/notify/templates/ by
# include_str!; tests/ is copied because Cargo.toml declares the `api` test target.
COPY migrations ./migrations
COPY src ./src
COPY tests ./tests

# BuildKit cache mounts keep the crate registry and target/ between builds. The
# target/ mount is not part of the image, so the binary is copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/app/target \
    cargo build --release --locked --bin idpc-hub \
 && install -D -m 0755 target/release/idpc-hub /out/idpc-hub

# ---------------------------------------------------------------------------
# Runtime: the binary links only libc and libgcc; ca-certificates is there for
# SMTP over TLS / STARTTLS.
# ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 idpc \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin idpc \
 && mkdir -p /app/data \
 && chown idpc:idpc /app/data

COPY --from=builder /out/idpc-hub /usr/local/bin/idpc-hub

WORKDIR /app
# data/ holds the SQLite file (when DATABASE_URL is sqlite://data/...), generated
# development keys and file-transport mail.
VOLUME ["/app/data"]

ENV BIND_ADDR=0.0.0.0 \
    PORT=8080

EXPOSE 8080

USER 10001:10001

ENTRYPOINT ["/usr/local/bin/idpc-hub"]
CMD ["serve"]
