/** Label on everything arkalia-dr creates in Docker, so it can clean up after itself. */
export const ARK_LABEL = 'org.arkalia-dr';

// No shell, no curl in a FROM scratch image: the health check is node itself. Docker
// 20.10 has no --start-interval, so a short interval keeps starts and drills fast.
export const STANDIN_DOCKERFILE = `FROM scratch
COPY rootfs/ /
WORKDIR /app
LABEL ${ARK_LABEL}=true
ENV ARK_PORT=8000
HEALTHCHECK --interval=3s --timeout=3s --retries=3 CMD ["/usr/local/bin/node", "/app/healthcheck.mjs"]
ENTRYPOINT ["/usr/local/bin/node", "/app/standin.mjs"]
`;
