/**
 * `tsx tests/support/reaper.ts <pid> <temp dir> [<postgres server url>]`: waits for the test run with
 * root process `pid` to end, then removes its databases and folders (tests/support/leftovers.ts) —
 * whatever its own teardown could not, because the run was interrupted or killed. Started detached
 * by the runs' global setups; ends by itself.
 */
import { isRunning, sweep } from './leftovers';

const [pidText, baseTmp, serverUrl] = process.argv.slice(2);
const pid = Number(pidText);
if (!Number.isInteger(pid) || !baseTmp) {
  console.error('usage: reaper.ts <pid> <temp dir> [<postgres server url>]');
  process.exit(2);
}
while (isRunning(pid)) await new Promise((resolve) => setTimeout(resolve, 500));
await sweep(serverUrl, { pid }, baseTmp);
