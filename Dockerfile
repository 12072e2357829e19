# The distributor as a container image: a static binary (pure-Go SQLite, no cgo) on distroless,
# run as a non-root user. Build and run: README "Deploying".
#
#   docker build -t distributor .
#   docker run --rm -p 6100:6100 -v /path/to/archiver:/archiver:ro \
#     -e ARCHIVER_DB_DIR=/archiver/db -e DATA_LOG_DIR=/archiver/data-logs distributor

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# docker build --build-arg VERSION=1.2.3 sets what `distributor version` prints.
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/distributor .

# static: no libc, no shell; nonroot: uid and gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/distributor /usr/local/bin/distributor
USER 65532:65532
WORKDIR /home/nonroot
# The configuration comes from the environment (or a distributor-config.json mounted here), so the
# image listens on every interface by default.
ENV DISTRIBUTOR_IP=0.0.0.0 DISTRIBUTOR_PORT=6100
EXPOSE 6100
# The parent is PID 1: SIGTERM stops it in order (subscribers get 1001, children exit within
# --grace), and it reaps its own children.
ENTRYPOINT ["/usr/local/bin/distributor"]
CMD ["start", "--grace", "5s"]
