import { describe, expect, it } from 'vitest';
import { toErrorInfo } from '../../src/core/error-info.js';

describe('toErrorInfo', () => {
  it('keeps the message, a name other than Error, and the first six lines of the stack', () => {
    const error = new TypeError('bad input');
    error.stack = ['TypeError: bad input', ...Array.from({ length: 20 }, (_, i) => `    at frame${i} (file.js:${i}:1)`)].join('\n');
    const info = toErrorInfo(error);
    expect(info.message).toBe('bad input');
    expect(info.name).toBe('TypeError');
    expect(info.stack?.split('\n')).toHaveLength(6);
    expect(info.stack).toContain('frame4');
    expect(info.stack).not.toContain('frame5');
    expect(toErrorInfo(new Error('plain'))).not.toHaveProperty('name');
  });

  it('describes what is not an Error: strings as they are, other values as JSON, the rest with String', () => {
    expect(toErrorInfo('rate limited')).toEqual({ message: 'rate limited' });
    expect(toErrorInfo({ status: 429 })).toEqual({ message: '{"status":429}' });
    expect(toErrorInfo(undefined)).toEqual({ message: 'undefined' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(toErrorInfo(circular)).toEqual({ message: '[object Object]' });
    expect(toErrorInfo(10n)).toEqual({ message: '10' });
  });

  it('cuts a long message at 2,000 characters and says so', () => {
    const info = toErrorInfo(new Error('x'.repeat(5000)));
    expect(info.message).toHaveLength(2001);
    expect(info.message.endsWith('x…')).toBe(true);
    expect(toErrorInfo('y'.repeat(2000)).message).toBe('y'.repeat(2000));
  });

  it('uses the error as text when its message is empty', () => {
    expect(toErrorInfo(new RangeError('')).message).toBe('RangeError');
  });
});
