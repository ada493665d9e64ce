/**
 * Test setup of every test file (vitest.config.ts `setupFiles`): the app's log lines (lib/log.ts)
 * are captured, not printed, so a passing run shows none — a line in the output means something is
 * wrong.
 *  - A failing test prints the lines captured since the previous test ended: they explain it.
 *  - `takeLogs(pattern)` hands a test the captured lines it expects (and removes them), to assert.
 *  - A captured `unexpected failure` (lib/http.ts: a request answered 500) that the test did not
 *    take fails the test: no test expects the server to break.
 */
import { afterEach, beforeEach, onTestFailed } from 'vitest';
import { setLogSink, type LogLevel, type LogRecord } from '@/lib/log';

const captured: LogRecord[] = [];
setLogSink((record) => {
  captured.push(record);
});

beforeEach(() => {
  onTestFailed(() => {
    if (captured.length === 0) return;
    process.stderr.write(`captured log lines:\n${captured.map((r) => `  ${r.line}`).join('\n')}\n`);
  });
});

afterEach(() => {
  const broken = captured.filter((r) => r.level === 'error' && r.message.startsWith('unexpected failure'));
  captured.length = 0;
  if (broken.length > 0) {
    throw new Error(`the test logged an unexpected failure (a 500):\n${broken.map((r) => r.line).join('\n')}`);
  }
});

/** The captured lines matching `pattern` (and `level`, if given), removed from the capture. */
export function takeLogs(pattern: RegExp | string, level?: LogLevel): LogRecord[] {
  const matches = (r: LogRecord) =>
    (level === undefined || r.level === level) && (typeof pattern === 'string' ? r.message.includes(pattern) : pattern.test(r.message));
  const taken = captured.filter(matches);
  for (const record of taken) captured.splice(captured.indexOf(record), 1);
  return taken;
}
