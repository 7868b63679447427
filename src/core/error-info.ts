import type { ErrorInfo } from './model.js';

const STACK_LINES = 6;
const MAX_MESSAGE = 2000;

/** Keeps what helps to understand a failure — message, name, head of the stack — and no more. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const info: ErrorInfo = { message: truncate(error.message || String(error)) };
    if (error.name && error.name !== 'Error') info.name = error.name;
    if (error.stack) info.stack = error.stack.split('\n').slice(0, STACK_LINES).join('\n');
    return info;
  }
  let message: string;
  try {
    message = typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
  } catch {
    message = String(error);
  }
  return { message: truncate(message) };
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}
