/** For the `default` of a switch that covers every case: a new case is a type error here. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
