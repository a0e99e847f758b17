# syntax=docker/dockerfile:1
#
# askpa as a container: a static binary (SQLite is modernc's pure Go, the
# knowledge base, models and migrations are built in) on distroless, run as
# a non-root user, with its SQLite file and search index on the /data volume.
#
#   docker build -t askpa .
#   docker run -p 8080:8080 -v askpa-data:/data --env-file .env askpa
#
# See README.md, "Run it in production".

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/askpa ./cmd/askpa \
 && mkdir -p /out/data

# distroless/static: CA certificates, tzdata, /etc/passwd with "nonroot"
# (65532), no shell and no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/askpa /usr/local/bin/askpa
COPY --from=build --chown=65532:65532 /out/data /data
ENV ASKPA_ADDR=:8080 \
    ASKPA_DATA_DIR=/data
# Not /data: with no ./content here askpa uses the knowledge base built into
# the binary (set ASKPA_CONTENT_DIR to mount your own).
WORKDIR /
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
# The first start builds the search index under /data: give it time.
HEALTHCHECK --interval=30s --timeout=5s --start-period=2m --retries=3 \
    CMD ["/usr/local/bin/askpa", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/askpa"]
CMD ["serve"]
