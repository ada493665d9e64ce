/**
 * The widget's in-memory message queue (docs/widget.md): messages in send order, one per key.
 * PersistentMessageQueue keeps it in step with durable browser storage.
 */

/** A message the visitor typed (the seed's shape). `key` is its client message id. */
export interface QueueMessage {
  type: 'chat';
  key: string;
  value: string;
  /** When the visitor pressed Send (ms since the epoch). */
  timestamp: number;
}

export class MessageQueue<T extends { key: string } = QueueMessage> {
  private readonly items = new Map<string, T>();

  /** Append `item`; false (and no change) when its key is already queued. */
  enqueue(item: T): boolean {
    if (this.items.has(item.key)) return false;
    this.items.set(item.key, item);
    return true;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  remove(key: string): boolean {
    return this.items.delete(key);
  }

  /** The first `count` items, oldest first. */
  peek(count: number): T[] {
    const out: T[] = [];
    for (const item of this.items.values()) {
      if (out.length >= count) break;
      out.push(item);
    }
    return out;
  }

  all(): T[] {
    return [...this.items.values()];
  }

  get size(): number {
    return this.items.size;
  }

  clear(): void {
    this.items.clear();
  }
}
