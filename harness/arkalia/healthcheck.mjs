// Docker HEALTHCHECK for the stand-in image (there is no curl in a FROM scratch image):
// exit 0 iff GET /health answers 200. A ref'd timer, not AbortSignal.timeout(): with an
// unref'd one, a pending fetch can leave the loop empty and node exits 13 mid-check.
const port = process.env.ARK_PORT || '8000';
const path = process.env.ARK_HEALTH_PATH || '/health';
const controller = new AbortController();
const timer = setTimeout(() => controller.abort(), 4000); // within the healthcheck's 5 s timeout
try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: controller.signal });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
} finally {
  clearTimeout(timer);
}
