/**
 * Opens a PostgresStore in a process where the `pg` package cannot be found, as for a user who
 * did not install it, and prints the error's code and message.
 */
import { register } from 'node:module';

const hide = `export async function resolve(specifier, context, next) {
  if (specifier === 'pg') {
    const error = new Error("Cannot find package 'pg'");
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hide)}`);

const { PostgresStore } = await import('../../src/postgres.js');
const store = new PostgresStore({ connectionString: 'postgres://user:pw@127.0.0.1:1/db', pipeline: 'p' });
try {
  await store.open();
  process.stdout.write('opened\n');
} catch (error) {
  const { code, message } = error as { code?: string; message: string };
  process.stdout.write(`${JSON.stringify({ code, message })}\n`);
}
