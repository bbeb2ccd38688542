# Build with the SDK, run on the runtime-deps image (Native AOT publish: the server is one native executable, so the
# runtime image needs only the libraries every .NET program links against, not .NET itself).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# The platform being built for (amd64, arm64, set by the builder): the publish keeps only that platform's native
# SQLite library instead of every platform's (33 MB of the 35 MB otherwise).
ARG TARGETARCH
# Native AOT compiles and links with clang and zlib, which the SDK image does not carry (the local stand-in does).
RUN if ! command -v clang >/dev/null || [ ! -e /usr/include/zlib.h ]; then \
      apt-get update && apt-get install -y --no-install-recommends clang zlib1g-dev && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
# Restore first, from the project file alone, so the package layer is reused while only sources change.
COPY Directory.Build.props ./
COPY src/ChatHub.Server/ChatHub.Server.csproj src/ChatHub.Server/
# TARGETARCH is set by BuildKit and podman; a builder that does not set it builds for its own platform.
RUN if [ -n "$TARGETARCH" ]; then platform="-a $TARGETARCH"; else platform=--use-current-runtime; fi \
 && dotnet restore $platform src/ChatHub.Server/ChatHub.Server.csproj
COPY src/ src/
COPY client/ client/
# The native debug symbols (ChatHub.Server.dbg, twice the binary) stay out of the image.
RUN if [ -n "$TARGETARCH" ]; then platform="-a $TARGETARCH"; else platform=--use-current-runtime; fi \
 && dotnet publish src/ChatHub.Server/ChatHub.Server.csproj -c Release $platform --no-restore \
    -o /app -p:CopyOutputSymbolsToPublishDirectory=false

FROM mcr.microsoft.com/dotnet/runtime-deps:10.0
WORKDIR /app
COPY --from=build /app ./
RUN mkdir -p /data && chown "$APP_UID:$APP_UID" /data
# The base image's non-root user `app`, by number so a runtime can check it is not root.
USER $APP_UID
# Every interface, port 8080 (the base image's default too; named here so the image does not depend on it).
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ChatHub__Storage__SqlitePath=/data/chathub.db \
    ChatHub__Logging__Format=json
VOLUME /data
EXPOSE 8080
# The runtime image has no curl; bash's /dev/tcp asks /healthz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '200 OK' <&3"]
# The server stops gracefully on SIGTERM: connections get 1001, the store commits what is left.
STOPSIGNAL SIGTERM
ENTRYPOINT ["./ChatHub.Server"]
