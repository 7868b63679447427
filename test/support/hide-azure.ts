/** Imported first: makes `@azure/storage-blob` impossible to find, as for a user who did not install it. */
import { register } from 'node:module';

const hide = `export async function resolve(specifier, context, next) {
  if (specifier === '@azure/storage-blob') {
    const error = new Error("Cannot find package '@azure/storage-blob'");
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hide)}`);
