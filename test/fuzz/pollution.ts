const baseline = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Throws if anything was added to Object.prototype (a `__proto__` key that was assigned, not defined). */
export function assertNoPollution(): void {
  const added = Object.getOwnPropertyNames(Object.prototype).filter((name) => !baseline.has(name));
  const probe: Record<string, unknown> = {};
  if (added.length > 0 || probe.polluted !== undefined || probe.a !== undefined) {
    throw new Error(`Object.prototype was polluted: ${added.join(', ')}`);
  }
}
