/** Types of snappyjs 0.7 (the package ships none): Snappy block compression in pure JavaScript. */
declare module 'snappyjs' {
  /** Compresses a buffer with the Snappy block format; returns the same kind of buffer it was given. */
  export function compress<T extends Uint8Array | ArrayBuffer>(input: T): T;
  /** Decompresses a Snappy block; returns the same kind of buffer it was given. */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(input: T, maxLength?: number): T;
}
