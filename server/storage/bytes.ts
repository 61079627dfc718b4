/**
 * A driver's Buffer as a plain Uint8Array over the same memory (no copy: a snapshot can be
 * megabytes). Yjs and the protocol code take Uint8Array; some of them treat a Buffer differently.
 */
export const asBytes = (buffer: Buffer): Uint8Array => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
