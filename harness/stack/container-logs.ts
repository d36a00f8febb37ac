import type Dockerode from 'dockerode';
import { demuxDockerLogs } from '../../lib/services/index.ts';

/** The last `tail` lines a container wrote (stdout and stderr), whatever its state. */
export async function containerLogs(container: Dockerode.Container, tail = 50): Promise<string> {
  const raw = (await container.logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
  return demuxDockerLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
}
