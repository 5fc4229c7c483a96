# The image of duckbench's built-in reference app (and of the duckbench CLI).
#
# With access to an image registry, build it from source:
#   docker build --build-arg VERSION=dev -t duckbench:dev .
# Without one (nothing to pull), feed this file's final stage a static binary
# built on the host; `duckbench image build` does exactly that:
#   CGO_ENABLED=0 go build -o duckbench ./cmd/duckbench && ./duckbench image build
# The compose runtime runs the app from duckbench:<version> unless the spec's
# apps[].image names another image.

# Build stage: a static binary (no libc), so the final stage needs nothing.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/duckbench ./cmd/duckbench

# Final stage: the binary alone, run as an unprivileged user. It has no shell
# and no curl: the health check is the binary's own `healthcheck` command.
FROM scratch
COPY --from=build /out/duckbench /duckbench
USER 65532:65532
EXPOSE 8001
ENTRYPOINT ["/duckbench"]
CMD ["app", "--name", "app", "--listen", "0.0.0.0:8001", "--redis-master", "redis:6379"]
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["/duckbench", "healthcheck", "http://127.0.0.1:8001/healthz"]
