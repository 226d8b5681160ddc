// Argument checks run before anything reaches the native layer; each throws a
// TypeError naming the argument.

export function checkString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw new TypeError(`${name} must be a non-empty string without NUL characters`);
  }
  return value;
}

/** A string that may be empty (a metadata value), but is handed to C: no NUL. */
export function checkStringValue(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.includes('\0')) {
    throw new TypeError(`${name} must be a string without NUL characters`);
  }
  return value;
}

export function checkOptionalString(name: string, value: unknown): string | undefined {
  return value === undefined ? undefined : checkString(name, value);
}

/** A non-negative safe integer (byte sizes, offsets, feature bits). */
export function checkUint(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative safe integer`);
  }
  return value;
}

export function checkOptionalUint(name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : checkUint(name, value);
}

export function checkPositive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a finite number > 0`);
  }
  return value;
}

export function checkOptions<T extends object>(name: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object`);
  }
  return value as Partial<T>;
}

export function checkBuffer(name: string, value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`${name} must be a Buffer`);
}

export function checkOptionalFunction<F extends (...args: never[]) => unknown>(
  name: string,
  value: unknown,
): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new TypeError(`${name} must be a function`);
  return value as F;
}
