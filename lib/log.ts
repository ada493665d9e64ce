/**
 * Tiny structured logger: every line names its origin, e.g. `[omniops] [db] switched to pglite`.
 * Kept dependency-free so it can run in scripts, route handlers and the proxy alike.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

const sinks: Record<Level, (line: string) => void> = {
  debug: (line) => console.debug(line),
  info: (line) => console.info(line),
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
};

export function createLogger(origin: string): Logger {
  const emit = (level: Level) => (message: string, extra?: Record<string, unknown>) => {
    const suffix = extra && Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
    sinks[level](`[omniops] [${origin}] ${message}${suffix}`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
