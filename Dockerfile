# Build with the SDK, run on the ASP.NET Core runtime image.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props ChatHub.sln ./
COPY src/ src/
COPY client/ client/
RUN dotnet publish src/ChatHub.Server/ChatHub.Server.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
RUN mkdir -p /data && chown app:app /data
USER app
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    ChatHub__Storage__SqlitePath=/data/chathub.db \
    ChatHub__Logging__Format=json
VOLUME /data
EXPOSE 8080
# The runtime image has no curl; bash's /dev/tcp asks /healthz.
HEALTHCHECK --interval=10s --timeout=3s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '200 OK' <&3"]
ENTRYPOINT ["dotnet", "ChatHub.Server.dll"]
