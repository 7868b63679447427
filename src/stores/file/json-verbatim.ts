/**
 * Whether JSON writes this character (a UTF-16 unit, or a byte of ASCII text) inside a string as
 * it is: printable ASCII but `"` and `\`. A step or key made only of such characters is written,
 * checksummed and read by the journal's and the snapshot's fast paths, without JSON.stringify or
 * JSON.parse.
 */
export const isVerbatim = (unit: number): boolean => unit >= 0x20 && unit <= 0x7e && unit !== 0x22 && unit !== 0x5c;
