// Docker HEALTHCHECK for the stand-in image (there is no curl in a FROM scratch image):
// exit 0 iff GET /health answers 200.
const port = process.env.ARK_PORT || '8000';
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
