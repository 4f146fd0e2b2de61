# Build a static binary, then ship it alone on a distroless base (CA
# certificates and a non-root user, nothing else).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/paperfeed . \
 && mkdir -p /out/data /out/public

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/paperfeed /paperfeed
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/public /public
ENV PAPERFEED_DATA_DIR=/data \
    PAPERFEED_OUT_DIR=/public \
    PAPERFEED_ADDR=:8080
VOLUME ["/data", "/public"]
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=1m --timeout=5s --start-period=2m CMD ["/paperfeed", "-healthcheck"]
ENTRYPOINT ["/paperfeed"]
