/**
 * Ports of the apps Playwright starts (playwright.config.ts) and of the Redis proxy the outage test
 * controls: the second app's REDIS_URL points at the proxy, where nothing listens until the test
 * starts it.
 */
export const appPort = 3210;
export const redisAppPort = 3211;
export const redisProxyPort = 3219;
