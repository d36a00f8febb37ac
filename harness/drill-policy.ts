import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'smol-toml';
import { UsageError } from '../lib/errors.ts';
import { parseToml } from '../lib/state/index.ts';
import type { ComposeStack } from './stack/index.ts';

// The ark.policy.toml a drill's operator scripts read: the root's own, with this run's
// containers, so that a drill never stops or starts a real container of the host.

/**
 * The ark.policy.toml the operator scripts read from the root: the root's own (data sets,
 * archives and retention stay as they are) with its services taken from this run's generated
 * compose file (its containers, project, order and health), so the operator scripts drive
 * this run's containers through Compose and can never stop or start a real container of the
 * host. With `names`, [compose] is disabled and only those services are listed: the others
 * still run, writers the policy does not name. Without a stack (null), no services at all.
 * Also in {work}, as the operator's copy kept with the offline key: after a disk loss the
 * root's copy is gone and the offsite does not hold it (infra archive), so `disk-recovery
 * --policy {work}/ark.policy.toml` is how that drill names the containers to start.
 */
export async function writeDrillPolicy(
  root: string,
  work: string,
  stack: ComposeStack | null,
  names?: readonly string[],
): Promise<void> {
  const policy = await readOwnPolicy(root);
  delete policy.api;
  delete policy.services;
  delete policy.start_order;
  if (stack === null) {
    policy.compose = { enabled: false };
  } else if (names === undefined) {
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
  const what = stack === null ? 'no services (this drill runs no containers)' : "this run's Compose project";
  const text = `# Written by the arkalia-dr drill harness: the root's policy, with ${what}.\n${stringify(policy)}\n`;
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
