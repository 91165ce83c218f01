# A small image holding the release tarball's tools (scripts/package), for
# pipelines that run steps in containers. Build it from the repository root
# after packaging:
#   scripts/package
#   docker build --build-arg VERSION=$(.build-dist/release/resnet-check --version) -t resnet-tools .
#   docker run --rm -v "$PWD:/work" -w /work resnet-tools ci model.onnx --format github
# The binaries carry the Swift runtime, protobuf-c and zlib; the base image
# supplies glibc and libstdc++ (the tarball's only dynamic dependencies) and a
# shell, which CI systems need to run steps inside the container.
FROM debian:bookworm-slim
ARG VERSION
ADD dist/resnet-tools-${VERSION}-linux-x86_64.tar.gz /opt/
RUN ln -s /opt/resnet-tools-${VERSION}/bin/resnet-check /usr/local/bin/resnet-check \
 && ln -s /opt/resnet-tools-${VERSION}/bin/resnet-convert /usr/local/bin/resnet-convert \
 && mkdir -p /usr/local/share/man/man1 \
 && cp /opt/resnet-tools-${VERSION}/share/man/man1/* /usr/local/share/man/man1/ \
 && resnet-check --version
ENTRYPOINT ["resnet-check"]
CMD ["--help"]
