// The start order Compose itself follows: a service starts after every service it depends_on.

/**
 * Services in layers: the first layer depends on nothing, each later one only on earlier
 * layers (a layer starts in parallel). Names sorted within a layer, so the order is stable.
 * Throws an Error naming the cycle when there is one; unknown dependencies must be checked first.
 */
export function startGroups(dependsOn: ReadonlyMap<string, readonly string[]>): string[][] {
  const placed = new Set<string>();
  const groups: string[][] = [];
  let remaining = [...dependsOn.keys()].sort();
  while (remaining.length > 0) {
    const layer = remaining.filter((name) => (dependsOn.get(name) ?? []).every((dep) => placed.has(dep)));
    if (layer.length === 0) throw new Error(`depends_on has a cycle: ${findCycle(dependsOn, remaining).join(' → ')}`);
    groups.push(layer);
    for (const name of layer) placed.add(name);
    remaining = remaining.filter((name) => !placed.has(name));
  }
  return groups;
}

/** One cycle among the services left over, as a path that ends where it starts. */
function findCycle(dependsOn: ReadonlyMap<string, readonly string[]>, left: readonly string[]): string[] {
  const inLeft = new Set(left);
  const path: string[] = [];
  let at = left[0]!;
  while (!path.includes(at)) {
    path.push(at);
    at = (dependsOn.get(at) ?? []).find((dep) => inLeft.has(dep))!;
  }
  return [...path.slice(path.indexOf(at)), at];
}
