/** Socket errors that mean "the connection went away", not "the request was wrong". */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * SQLSTATEs worth retrying: connection exceptions (class 08), the server shutting down or
 * terminating the backend (57P01–57P03), too many connections, and transaction conflicts
 * (serialization failure, deadlock) that succeed when run again.
 */
const TRANSIENT_STATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);

/** Messages of node-postgres for a connection that ended under it (these errors have no code). */
const TRANSIENT_MESSAGE = /connection terminated|connection error|not queryable|timeout exceeded when trying to connect|socket hang up/i;

/** Whether running the same statement again, on a new connection, may well succeed. */
export function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error ? String(error.code) : '';
  if (NETWORK_CODES.has(code) || TRANSIENT_STATES.has(code) || code.startsWith('08')) return true;
  const message = 'message' in error ? String(error.message) : '';
  return code === '' && TRANSIENT_MESSAGE.test(message);
}
