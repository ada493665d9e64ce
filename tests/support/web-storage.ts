/**
 * A Web Storage (the DOM `Storage` interface) for Node tests, able to fail the ways browsers do:
 * QuotaExceededError past a byte quota, and SecurityError on every access when blocked.
 */
export class TestStorage implements Storage {
  private readonly data = new Map<string, string>();
  /** Throw SecurityError on every call (third-party storage blocked). */
  blocked = false;

  constructor(private readonly quotaBytes = Infinity) {}

  private check(): void {
    if (this.blocked) throw new DOMException('The operation is insecure.', 'SecurityError');
  }

  private bytes(): number {
    let total = 0;
    for (const [k, v] of this.data) total += (k.length + v.length) * 2;
    return total;
  }

  get length(): number {
    this.check();
    return this.data.size;
  }
  key(index: number): string | null {
    this.check();
    return [...this.data.keys()][index] ?? null;
  }
  getItem(key: string): string | null {
    this.check();
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.check();
    const previous = this.data.get(key);
    const grow = (key.length + value.length) * 2 - (previous === undefined ? 0 : (key.length + previous.length) * 2);
    if (this.bytes() + grow > this.quotaBytes) {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    }
    this.data.set(key, value);
  }
  removeItem(key: string): void {
    this.check();
    this.data.delete(key);
  }
  clear(): void {
    this.check();
    this.data.clear();
  }
}
