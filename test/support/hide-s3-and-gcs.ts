/** Imported first: makes `@aws-sdk/client-s3` and `@google-cloud/storage` impossible to find, as for a user who did not install them. */
import { register } from 'node:module';

const hide = `export async function resolve(specifier, context, next) {
  if (specifier === '@aws-sdk/client-s3' || specifier === '@google-cloud/storage') {
    const error = new Error("Cannot find package '" + specifier + "'");
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hide)}`);
