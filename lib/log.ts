/**
 * Tiny structured logger: every line names its origin, e.g. `[omniops] [db] switched to pglite`.
 * Kept dependency-free so it can run in scripts, route handlers and the proxy alike.
 *
 * Lines go to the console unless a sink is installed (`setLogSink`): the test setup
 * (tests/support/log-capture.ts) captures them, so a passing test run prints none and a test can
 * assert the lines it expects.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface LogRecord {
  level: LogLevel;
  origin: string;
  /** The message with its extra fields, without the `[omniops] [origin]` prefix. */
  message: string;
  /** The whole line as the console would show it. */
  line: string;
}

export type LogSink = (record: LogRecord) => void;

const consoleSink: LogSink = ({ level, line }) => console[level](line);

// On globalThis: Next.js can load this module more than once (per bundle), and all copies must
// agree on where lines go.
const globalForLog = globalThis as typeof globalThis & { __omniopsLogSink?: LogSink };

/** Send every log line to `sink` instead of the console; `undefined` restores the console. */
export function setLogSink(sink: LogSink | undefined): void {
  globalForLog.__omniopsLogSink = sink;
}

export function createLogger(origin: string): Logger {
  const emit = (level: LogLevel) => (text: string, extra?: Record<string, unknown>) => {
    const suffix = extra && Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
    const message = `${text}${suffix}`;
    (globalForLog.__omniopsLogSink ?? consoleSink)({ level, origin, message, line: `[omniops] [${origin}] ${message}` });
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
