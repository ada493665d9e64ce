/**
 * GET /favicon.ico — browsers ask for it whatever the page declares; send them to the app's icon
 * (app/icon.svg, served at /icon.svg) instead of a 404 that shows up as a console error.
 */
export function GET(): Response {
  return new Response(null, { status: 308, headers: { location: '/icon.svg', 'cache-control': 'public, max-age=86400' } });
}
