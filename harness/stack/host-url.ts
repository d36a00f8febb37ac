import type Dockerode from 'dockerode';

/** http URL of a container port as published on the host, from an inspect result. */
function publishedUrl(info: Dockerode.ContainerInspectInfo, port: number, path = '/'): string {
  const bindings = info.NetworkSettings.Ports?.[`${port}/tcp`] ?? [];
  const binding = bindings.find((b) => b.HostIp === '0.0.0.0' || b.HostIp === '') ?? bindings[0];
  if (!info.State.Running || binding === undefined) {
    throw new Error(`Container ${info.Name.replace(/^\//, '')} is ${info.State.Status}: port ${port} is not published`);
  }
  // 127.0.0.1 rather than localhost: Node resolves localhost to ::1 first.
  const host = binding.HostIp.includes(':') ? '[::1]' : '127.0.0.1';
  return `http://${host}:${binding.HostPort}${path.startsWith('/') ? path : `/${path}`}`;
}

/**
 * The same, read from `docker inspect` now: a restart (by an operator script, behind the
 * harness's back) publishes a new port, so it is never cached.
 */
export async function hostUrl(docker: Dockerode, container: string, port: number, path = '/'): Promise<string> {
  return publishedUrl(await docker.getContainer(container).inspect(), port, path);
}
