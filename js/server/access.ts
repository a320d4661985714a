// Who may call what (docs/security.md has the table): the Host and Origin checks every route
// gets, explicit CORS, the admin token for routes that write cache content directly, and the
// tenant, taken from a verified source when the deployment has one.
import { SemcacheError } from '../errors.js';
import { secretsEqual, sha256Hex } from '../llm/canonical.js';

export interface AccessOptions {
  /** Token for /cache/put, /cache/clear (any tenant), /cache/flush, sent as X-Semcache-Admin-Token.
   * Without one those routes are off, except from loopback with a same-origin or absent Origin. */
  adminToken?: string;
  /** Origins allowed to call from another site (CORS), exactly as browsers send them, or '*'.
   * Default none: cross-site requests are refused. */
  corsOrigins?: readonly string[];
  /** Host names (no port) the server answers to; default any. A server on loopback answers
   * only to loopback names, which stops DNS rebinding. */
  allowedHosts?: readonly string[];
  /** Header naming the tenant. Default x-semcache-tenant. */
  tenantHeader?: string;
  /** Verified tenants, way 1: an authenticating proxy sets the tenant header and this secret in
   * X-Semcache-Proxy-Secret; requests without it are refused. */
  tenantProxySecret?: string;
  /** Verified tenants, way 2: token -> tenant; clients send theirs in X-Semcache-Tenant-Token. */
  tenantTokens?: Readonly<Record<string, string>>;
}

/** What the transport knows about the caller that the Request does not carry. */
export interface ClientInfo {
  /** The peer's IP address (Node: the socket's; absent at the edge). */
  address?: string;
  /** The Host header as received (Node builds the Request's URL without it). */
  host?: string;
  /** Keeps work alive after the response (edge runtimes: ctx.waitUntil); default: the handler's. */
  waitUntil?: (p: Promise<unknown>) => void;
}

export interface Caller {
  tenant: string;
  /** The tenant came from a verified source (proxy secret or tenant token). */
  verified: boolean;
  admin: boolean;
  /** Same-origin (or no Origin) from loopback on a loopback Host: the local-only write rights. */
  local: boolean;
  /** Headers to add to the response (CORS). */
  cors: Record<string, string>;
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];
export const isLoopbackAddress = (a: string | undefined) => !!a && (a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.'));
export const loopbackHosts = (): string[] => [...LOOPBACK_HOSTS];

const hostName = (host: string) => (host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!).toLowerCase();

export function createAccess(options: AccessOptions) {
  const tenantHeader = (options.tenantHeader ?? 'x-semcache-tenant').toLowerCase();
  const cors = new Set(options.corsOrigins ?? []);
  const hosts = options.allowedHosts ? new Set(options.allowedHosts.map((h) => h.toLowerCase())) : undefined;
  // tenant tokens are looked up by their hash: no comparison of the secrets themselves
  const tokenTenants = options.tenantTokens
    ? Promise.all(Object.entries(options.tenantTokens).map(async ([token, tenant]) => [await sha256Hex(token), tenant] as const)).then((e) => new Map(e))
    : undefined;

  return {
    tenantHeader,
    /** The CORS headers for an allowed foreign Origin (none for same-origin requests). */
    corsHeaders(origin: string | null): Record<string, string> {
      if (!origin || !(cors.has(origin) || cors.has('*'))) return {};
      return { 'access-control-allow-origin': origin, vary: 'origin', 'access-control-expose-headers': 'x-semcache, x-semcache-similarity, x-semcache-id, x-semcache-joined' };
    },
    preflightHeaders(): Record<string, string> {
      return {
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': `content-type, authorization, cache-control, ${tenantHeader}, x-semcache-tenant-token, x-semcache-admin-token`,
        'access-control-max-age': '600',
      };
    },

    /** Checks Host and Origin and resolves the caller; throws a SemcacheError naming the refusal. */
    async caller(request: Request, info: ClientInfo): Promise<Caller> {
      const host = info.host ?? new URL(request.url).host;
      if (hosts && !hosts.has(hostName(host))) throw new SemcacheError('HOST_NOT_ALLOWED', `this server does not answer to Host ${JSON.stringify(host)}`);
      const origin = request.headers.get('origin');
      let sameOrigin = origin === null;
      if (origin !== null) {
        try {
          sameOrigin = new URL(origin).host === host.toLowerCase();
        } catch {
          sameOrigin = false;
        }
      }
      const corsAllowed = origin !== null && (cors.has(origin) || cors.has('*'));
      if (!sameOrigin && !corsAllowed) throw new SemcacheError('CROSS_ORIGIN', `requests from ${origin} are not allowed (see CORS in docs/security.md)`);
      // A browser that sends no Origin still says where a request comes from.
      const site = request.headers.get('sec-fetch-site');
      if (origin === null && (site === 'cross-site' || site === 'same-site')) throw new SemcacheError('CROSS_ORIGIN', 'cross-site requests are not allowed');

      const given = request.headers.get('x-semcache-admin-token');
      let admin = false;
      if (given !== null) {
        if (!options.adminToken || !(await secretsEqual(given, options.adminToken))) throw new SemcacheError('UNAUTHORIZED', 'the admin token is not valid');
        admin = true;
      }
      const named = request.headers.get(tenantHeader)?.trim() || 'default';
      let tenant = named;
      let verified = false;
      if (tokenTenants) {
        const token = request.headers.get('x-semcache-tenant-token');
        const found = token === null ? undefined : (await tokenTenants).get(await sha256Hex(token));
        if (found !== undefined) {
          tenant = found;
          verified = true;
        } else if (!admin) throw new SemcacheError('UNAUTHORIZED', token === null ? 'send your tenant token in X-Semcache-Tenant-Token' : 'the tenant token is not valid');
      } else if (options.tenantProxySecret !== undefined) {
        const secret = request.headers.get('x-semcache-proxy-secret');
        if (secret !== null && (await secretsEqual(secret, options.tenantProxySecret))) verified = true;
        else if (!admin) throw new SemcacheError('UNAUTHORIZED', 'requests must come through the authenticating proxy');
      }
      // a request a proxy forwarded comes from loopback too, but not from this machine's user
      const forwarded = ['forwarded', 'x-forwarded-for', 'x-real-ip'].some((h) => request.headers.has(h));
      const local = !options.adminToken && !forwarded && isLoopbackAddress(info.address) && sameOrigin && LOOPBACK_HOSTS.includes(hostName(host));
      return { tenant, verified, admin, local, cors: corsAllowed ? this.corsHeaders(origin) : {} };
    },

    /** Throws unless the caller may write cache content directly (`ownTenantOnly`: a clear of
     * the caller's own verified tenant, which needs no admin). */
    requireWrite(caller: Caller, route: string, ownTenantOnly = false): void {
      if (caller.admin || caller.local || (ownTenantOnly && caller.verified)) return;
      if (options.adminToken) throw new SemcacheError('UNAUTHORIZED', `${route} needs the admin token (X-Semcache-Admin-Token)`);
      throw new SemcacheError('FORBIDDEN', `${route} is off: configure an admin token to use it (it is open only to same-origin requests from loopback)`);
    },
  };
}

export type Access = ReturnType<typeof createAccess>;
