import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'smol-toml';
import { UsageError } from '../lib/errors.ts';
import { parseToml } from '../lib/state/index.ts';
import { type ComposeStack, DEFAULT_START_ORDER, type StackServiceSpec } from './stack/index.ts';

// The ark.policy.toml a drill's operator scripts read: the root's own, with this run's
// containers, so that a drill never stops or starts a real container of the host.

/**
 * The policy the operator scripts read from the root: the root's own ark.policy.toml (an
 * operator's data sets, archives and retention stay as they are) with the services, start
 * order and API check replaced by this run's containers, so that a drill can never stop or
 * start a real container of the host it runs on. Also in {work}, as the operator's copy kept
 * with the offline key: after a disk loss the root's copy is gone and the offsite does not
 * hold it (infra archive), so `disk-recovery --policy {work}/ark.policy.toml` is how that
 * drill names the containers to start.
 */
export async function writeDrillPolicy(
  root: string,
  work: string,
  services: readonly StackServiceSpec[],
): Promise<void> {
  const own = await readFile(join(root, 'ark.policy.toml'), 'utf8').catch(() => null);
  const policy = await readOwnPolicy(root);
  // Only this run's containers: the root's compose file names the real ones.
  policy.compose = { enabled: false };
  policy.services = Object.fromEntries(
    services.map((s) => [
      s.name,
      { container: s.container, port: s.port, health_path: '/health', health_timeout: 'PT60S' },
    ]),
  );
  policy.start_order = DEFAULT_START_ORDER;
  delete policy.api;
  const text = `# Written by the arkalia-dr drill harness: ${own === null ? 'the containers of this run' : "the root's own policy, with the containers of this run"}.\n${stringify(policy)}\n`;
  for (const dir of [root, work]) await writeFile(join(dir, 'ark.policy.toml'), text);
}

/**
 * The Compose drill's policy: the root's own (data sets, archives, retention kept) with its
 * services from the generated compose file of this run (its containers, project, order and
 * health), so the operator scripts drive this run's containers through Compose. With
 * `names`, [compose] is disabled and only those services are listed: the others still run,
 * writers the policy does not name. Also in {work}, as in writeDrillPolicy.
 */
export async function writeComposeDrillPolicy(
  root: string,
  work: string,
  stack: ComposeStack,
  names: readonly string[] | undefined,
): Promise<void> {
  const policy = await readOwnPolicy(root);
  delete policy.api;
  delete policy.services;
  delete policy.start_order;
  if (names === undefined) {
    policy.compose = { enabled: true, file: stack.composeFile, project: stack.project };
  } else {
    const unknown = names.filter((n) => !(n in stack.compose.services));
    if (unknown.length > 0)
      throw new UsageError(`policy_services names ${unknown.join(', ')}: not services of the compose file`);
    policy.compose = { enabled: false };
    policy.services = Object.fromEntries(
      names.map((n) => [n, { container: stack.compose.services[n]!.container, health_timeout: 'PT60S' }]),
    );
    policy.start_order = stack.compose.groups
      .map((g) => g.filter((n) => names.includes(n)))
      .filter((g) => g.length > 0);
  }
  const text = `# Written by the arkalia-dr drill harness: the root's policy, with this run's Compose project.\n${stringify(policy)}\n`;
  for (const dir of [root, work]) await writeFile(join(dir, 'ark.policy.toml'), text);
}

async function readOwnPolicy(root: string): Promise<Record<string, unknown>> {
  const own = await readFile(join(root, 'ark.policy.toml'), 'utf8').catch(() => null);
  if (own === null) return {};
  try {
    return parseToml(own) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(
      `the drill root's ark.policy.toml is not valid TOML (${(error as Error).message}): the drill cannot give it its containers`,
    );
  }
}
