# syntax=docker/dockerfile:1
# Herald: a static binary (pure-Go SQLite, no cgo) on a small Alpine base.
# Alpine rather than distroless so that the compose health check can call
# /readyz with busybox wget.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first: this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# herald version: docker build --build-arg VERSION=v1.2.0 --build-arg COMMIT=$(git rev-parse HEAD) .
ARG VERSION=devel
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/herald ./cmd/herald

FROM alpine:3.22
RUN apk add --no-cache ca-certificates \
 && addgroup -S -g 10001 herald \
 && adduser -S -D -H -u 10001 -G herald -h /var/lib/herald herald \
 && install -d -o herald -g herald -m 0700 /var/lib/herald
COPY --from=build /out/herald /usr/local/bin/herald
USER 10001:10001
WORKDIR /var/lib/herald
# Single-node default: SQLite (and its generated KEK) in the data volume.
ENV HERALD_DATABASE_URL=sqlite:/var/lib/herald/herald.db
VOLUME /var/lib/herald
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/herald"]
CMD ["serve", "--addr", "0.0.0.0:8080"]
