/**
 * Server-side Supabase clients: the service-role client (data), the per-request auth client (staff
 * sign-in with Supabase Auth) and a staff member's data client (their JWT: RLS applies).
 *
 * WARNING: the service-role client bypasses Row Level Security. Import this module only from server
 * code (route handlers, scripts); never from a client component.
 */
import type { WebSocketLikeConstructor } from '@supabase/realtime-js';
import { createServerClient, type CookieMethodsServer } from '@supabase/ssr';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import type { Config } from '@/lib/config';

const DATA_CLIENT_OPTIONS = {
  auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  // supabase-js builds its Realtime client eagerly; `ws` is the implementation Supabase documents
  // for Node. Node 24 (the supported runtime) has a global WebSocket too, but an older Node that
  // runs the code anyway (engines only warns) has none, and the client would throw. Its typings
  // differ from the DOM's only in event object types, hence the cast.
  realtime: { transport: WebSocket as unknown as WebSocketLikeConstructor },
};

/** A new service-role client; throws when Supabase (URL + service-role key) is not configured. */
export function createServiceRoleClient(supabase: Config['supabase']): SupabaseClient {
  if (!supabase?.serviceRoleKey) {
    throw new Error(
      '[omniops] [supabase] SUPABASE_SECRET_KEY (or SUPABASE_SERVICE_ROLE_KEY) and NEXT_PUBLIC_SUPABASE_URL are required for the service-role client',
    );
  }
  return createClient(supabase.url, supabase.serviceRoleKey, DATA_CLIENT_OPTIONS);
}

/**
 * A data client acting as a signed-in user: the publishable (or legacy anon) key in `apikey` plus the
 * user's access token in `Authorization`, so PostgREST runs each call as `authenticated` with the
 * user's claims and Row Level Security filters the rows. A `sb_publishable_…` key is not a JWT; the
 * user's token, not the key, decides the role either way.
 * The token is not refreshed here (proxy.ts refreshes the session); create one per request.
 */
export function createUserClient(supabase: Config['supabase'], accessToken: string): SupabaseClient {
  if (!supabase?.anonKey) {
    throw new Error('[omniops] [supabase] NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY (or NEXT_PUBLIC_SUPABASE_ANON_KEY) is required for a user-scoped client');
  }
  return createClient(supabase.url, supabase.anonKey, {
    ...DATA_CLIENT_OPTIONS,
    global: { headers: { Authorization: `Bearer ${accessToken}` } },
  });
}

/**
 * A new Supabase Auth client for one request, reading and writing the session in the request's
 * cookies (`@supabase/ssr`; anon key, so RLS applies to anything it queries). Create one per
 * request, never a module-level client: its session belongs to one visitor.
 */
export function createAuthClient(supabase: Config['supabase'], cookies: CookieMethodsServer): SupabaseClient {
  if (!supabase?.anonKey) {
    throw new Error('[omniops] [supabase] NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY (or NEXT_PUBLIC_SUPABASE_ANON_KEY) is required for Supabase Auth sign-in');
  }
  return createServerClient(supabase.url, supabase.anonKey, {
    cookies,
    realtime: { transport: WebSocket as unknown as WebSocketLikeConstructor },
  });
}
