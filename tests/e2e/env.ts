/** Settings shared by playwright.config.ts (the server's environment) and the e2e tests. */
export const CRON_SECRET = 'e2e-cron-secret-0123456789abcdef';
