// Must be imported before 'testcontainers' is first used. Ryuk (its reaper) would be
// pulled from a registry, and none is reachable: we remove our containers by label instead.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
export {};
