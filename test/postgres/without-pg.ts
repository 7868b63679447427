/**
 * Opens a PostgresStore in a process where the `pg` package cannot be found, as for a user who
 * did not install it, and prints the error's code and message.
 */
import '../support/hide-pg.js';

const { PostgresStore } = await import('../../src/postgres.js');
const store = new PostgresStore({ connectionString: 'postgres://user:pw@127.0.0.1:1/db', pipeline: 'p' });
try {
  await store.open();
  process.stdout.write('opened\n');
} catch (error) {
  const { code, message } = error as { code?: string; message: string };
  process.stdout.write(`${JSON.stringify({ code, message })}\n`);
}
