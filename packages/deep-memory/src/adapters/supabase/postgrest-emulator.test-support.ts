import { createHmac, timingSafeEqual } from "node:crypto";
import { HttpResponse } from "msw";
import { type Columns, filters, ident, intParam, orderBy, parsePrefer, PgrstError, selectList, splitList, type SqlParts } from "./postgrest-query.test-support.js";

/**
 * A PostgREST stand-in for tests, answering supabase-js over msw the way a
 * Supabase project's Data API does: same URLs, query grammar, Prefer headers,
 * Content-Range, max-rows cap, error bodies and status codes. Every request
 * runs as real SQL on a PGlite database holding the real migrations, in a
 * transaction with `set local role` and `request.jwt.claims` taken from the
 * verified JWT, as PostgREST does, so row-level security applies for real.
 *
 * It covers what our stores send and refuses anything else with 400, so a
 * store that starts sending an unsupported request fails its tests. Route
 * `${url}/rest/v1/*` to `handle()` from an msw handler.
 */

interface Queryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}
export interface EmulatorDatabase extends Queryable {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

export interface PostgrestEmulatorOptions {
  db: EmulatorDatabase;
  /** The project URL given to createClient, e.g. "https://demo.supabase.co". */
  url: string;
  jwtSecret: string;
  /** Supabase's default `max_rows` is 1000. */
  maxRows?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  search: URLSearchParams;
  headers: Headers;
  body: unknown;
}

const ROLES = new Set(["anon", "authenticated", "service_role"]);

// ---------------------------------------------------------------- JWT

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

export function signJwt(payload: Record<string, unknown>, secret: string): string {
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify(payload));
  const signature = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${signature}`;
}

function verifyJwt(token: string, secret: string): Record<string, unknown> {
  const [head, body, signature] = token.split(".");
  if (!head || !body || !signature) throw new PgrstError(401, "PGRST301", "Expected 3 parts in JWT; got " + token.split(".").length);
  const expected = createHmac("sha256", secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new PgrstError(401, "PGRST301", "JWSError JWSInvalidSignature");
  }
  const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Record<string, unknown>;
  if (typeof claims.exp === "number" && claims.exp * 1000 < Date.now()) throw new PgrstError(401, "PGRST303", "JWT expired");
  return claims;
}

// ---------------------------------------------------------------- errors

function statusForSqlState(code: string, role: string): number {
  if (code.startsWith("08")) return 503;
  if (code === "23503" || code === "23505") return 409;
  if (code === "25006") return 405;
  if (code === "42501") return role === "anon" ? 401 : 403;
  if (code === "42883" || code === "42P01") return 404;
  if (code === "P0001") return 400;
  if (/^(09|25|2D|38|39|3B|40|54|55|57|58|F0|HV|P0|XX)/.test(code)) return 500;
  if (code.startsWith("53")) return 503;
  return 400;
}

function errorResponse(error: PgrstError): Response {
  return HttpResponse.json(
    { code: error.code, details: error.details, hint: error.hint, message: error.message },
    { status: error.status },
  );
}

// ---------------------------------------------------------------- the emulator

export class PostgrestEmulator {
  readonly requests: RecordedRequest[] = [];
  private readonly maxRows: number;
  private readonly columnCache = new Map<string, Columns>();

  constructor(private readonly options: PostgrestEmulatorOptions) {
    this.maxRows = options.maxRows ?? 1000;
  }

  /** A service-role key and an anon key, signed like a project's. */
  key(role: "service_role" | "anon"): string {
    return signJwt({ role, iss: "supabase" }, this.options.jwtSecret);
  }

  /** A signed-in user's access token. */
  userToken(sub: string): string {
    return signJwt({ role: "authenticated", sub, aud: "authenticated" }, this.options.jwtSecret);
  }

  /** Answers one request to /rest/v1/... as PostgREST would. */
  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname.replace(/^\/rest\/v1\//, "");
    const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    this.requests.push({ method: request.method, path, search: url.searchParams, headers: request.headers, body });
    let role = "anon";
    try {
      const token = request.headers.get("authorization")?.replace(/^Bearer /i, "");
      const claims = token ? verifyJwt(token, this.options.jwtSecret) : { role: "anon" };
      role = typeof claims.role === "string" ? claims.role : "anon";
      if (!ROLES.has(role)) throw new PgrstError(401, "PGRST301", `role "${role}" does not exist`);
      return await this.options.db.transaction(async (tx) => {
        // What PostgREST does for every request.
        await tx.query(`set local role ${role}`);
        await tx.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify(claims)]);
        if (path.startsWith("rpc/")) return this.rpc(tx, path.slice(4), url.searchParams, request, body);
        return this.table(tx, path, url.searchParams, request, body);
      });
    } catch (error) {
      if (error instanceof PgrstError) return errorResponse(error);
      const e = error as { code?: string; message?: string; detail?: string; hint?: string };
      if (typeof e.code === "string") {
        return errorResponse(new PgrstError(statusForSqlState(e.code, role), e.code, e.message ?? "", e.detail ?? null, e.hint ?? null));
      }
      throw error;
    }
  }

  private async columns(tx: Queryable, table: string): Promise<Columns> {
    const cached = this.columnCache.get(table);
    if (cached) return cached;
    const { rows } = await tx.query(
      `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
         from pg_attribute a
        where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped`,
      [`public.${ident(table)}`],
    );
    if (rows.length === 0) {
      throw new PgrstError(404, "PGRST205", `Could not find the table 'public.${table}' in the schema cache`);
    }
    const columns = { types: new Map((rows as { name: string; type: string }[]).map((r) => [r.name, r.type])) };
    this.columnCache.set(table, columns);
    return columns;
  }

  private async table(tx: Queryable, table: string, search: URLSearchParams, request: Request, body: unknown): Promise<Response> {
    const columns = await this.columns(tx, table);
    const prefer = parsePrefer(request.headers);
    const target = `public.${ident(table)}`;
    const parts: SqlParts = { params: [], where: [] };
    const where = () => (parts.where.length ? ` where ${parts.where.join(" and ")}` : "");

    if (request.method === "GET" || request.method === "HEAD") {
      filters(search, columns, parts, "_t");
      const offset = intParam(search, "offset") ?? 0;
      const limit = Math.min(intParam(search, "limit") ?? Number.MAX_SAFE_INTEGER, this.maxRows);
      const base = `from ${target} _t${where()}`;
      let total: number | null = null;
      if (prefer.get("count") === "exact") {
        const { rows } = await tx.query(`select count(*)::int as n ${base}`, parts.params);
        total = (rows[0] as { n: number }).n;
        if (offset > total) {
          throw new PgrstError(
            416,
            "PGRST103",
            "Requested range not satisfiable",
            `An offset of ${offset} was requested, but there are only ${total} rows.`,
          );
        }
      }
      if (request.method === "HEAD") {
        return new HttpResponse(null, { status: 200, headers: { "content-range": `*/${total ?? "*"}` } });
      }
      const list = `select ${selectList(search, columns, "_t")} ${base}${orderBy(search, columns, "_t")} limit ${limit} offset ${offset}`;
      return this.respond(tx, list, parts.params, { status: 200, total, offset, accept: request.headers.get("accept") });
    }

    if (request.method === "POST") {
      const rows = Array.isArray(body) ? body : [body];
      if (rows.some((r) => typeof r !== "object" || r === null)) throw new PgrstError(400, "PGRST102", "Empty or invalid json");
      const names = search.get("columns")
        ? splitList(search.get("columns")!).map((c) => c.replace(/^"|"$/g, ""))
        : [...new Set(rows.flatMap((r) => Object.keys(r as object)))];
      for (const name of names)
        if (!columns.types.has(name))
          throw new PgrstError(400, "PGRST204", `Could not find the '${name}' column of '${table}' in the schema cache`);
      parts.params.push(JSON.stringify(rows));
      const cols = names.map(ident).join(", ");
      let sql = `insert into ${target} as _t (${cols}) select ${cols} from json_populate_recordset(null::${target}, $1::text::json)`;
      const resolution = prefer.get("resolution");
      if (resolution) {
        const conflict = (search.get("on_conflict") ?? "").split(",").filter(Boolean);
        if (conflict.length === 0) throw new PgrstError(400, "PGRST100", "the emulator needs on_conflict for upserts");
        const target2 = conflict.map(ident).join(", ");
        sql +=
          resolution === "ignore-duplicates"
            ? ` on conflict (${target2}) do nothing`
            : ` on conflict (${target2}) do update set ${names.map((n) => `${ident(n)} = excluded.${ident(n)}`).join(", ")}`;
      }
      return this.mutate(tx, sql, parts.params, search, columns, prefer, 201, request.headers.get("accept"));
    }

    if (request.method === "PATCH") {
      if (typeof body !== "object" || body === null || Array.isArray(body)) throw new PgrstError(400, "PGRST102", "Empty or invalid json");
      const names = Object.keys(body);
      for (const name of names)
        if (!columns.types.has(name))
          throw new PgrstError(400, "PGRST204", `Could not find the '${name}' column of '${table}' in the schema cache`);
      parts.params.push(JSON.stringify(body));
      filters(search, columns, parts, "_t");
      const sets = names.map((n) => `${ident(n)} = _b.${ident(n)}`).join(", ");
      const sql = `update ${target} as _t set ${sets} from (select * from json_populate_record(null::${target}, $1::text::json)) _b${where()}`;
      return this.mutate(tx, sql, parts.params, search, columns, prefer, 200, request.headers.get("accept"));
    }

    if (request.method === "DELETE") {
      filters(search, columns, parts, "_t");
      return this.mutate(
        tx,
        `delete from ${target} as _t${where()}`,
        parts.params,
        search,
        columns,
        prefer,
        200,
        request.headers.get("accept"),
      );
    }
    throw new PgrstError(405, "PGRST117", `Unsupported HTTP method: ${request.method}`);
  }

  private async mutate(
    tx: Queryable,
    sql: string,
    params: unknown[],
    search: URLSearchParams,
    columns: Columns,
    prefer: Map<string, string>,
    status: number,
    accept: string | null,
  ): Promise<Response> {
    if (prefer.get("return") === "representation") {
      return this.respond(tx, `${sql} returning ${selectList(search, columns, "_t")}`, params, {
        status,
        total: null,
        offset: 0,
        accept,
        cte: true,
      });
    }
    await tx.query(sql, params);
    return new HttpResponse(null, { status: status === 201 ? 201 : 204 });
  }

  /** Serialises rows with PostgreSQL's own JSON, as PostgREST does (json_agg). */
  private async respond(
    tx: Queryable,
    sql: string,
    params: unknown[],
    shape: { status: number; total: number | null; offset: number; accept: string | null; cte?: boolean },
  ): Promise<Response> {
    const wrapped = shape.cte
      ? `with _r as (${sql}) select coalesce(json_agg(_r), '[]')::text as body, count(*)::int as n from _r`
      : `select coalesce(json_agg(_r), '[]')::text as body, count(*)::int as n from (${sql}) _r`;
    const { rows } = await tx.query(wrapped, params);
    const { body, n } = rows[0] as { body: string; n: number };
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
    const range = n > 0 ? `${shape.offset}-${shape.offset + n - 1}` : "*";
    headers["content-range"] = `${range}/${shape.total ?? "*"}`;
    if (shape.accept?.startsWith("application/vnd.pgrst.object+json")) {
      if (n !== 1) {
        throw new PgrstError(406, "PGRST116", "JSON object requested, multiple (or no) rows returned", `The result contains ${n} rows`);
      }
      return new HttpResponse(JSON.stringify((JSON.parse(body) as unknown[])[0]), { status: shape.status, headers });
    }
    const partial = shape.total !== null && n < shape.total;
    return new HttpResponse(body, { status: shape.status === 200 && partial ? 206 : shape.status, headers });
  }

  private async rpc(tx: Queryable, fn: string, search: URLSearchParams, request: Request, body: unknown): Promise<Response> {
    if (request.method !== "POST") throw new PgrstError(405, "PGRST101", "the emulator only supports POST for functions");
    const args = (body ?? {}) as Record<string, unknown>;
    const { rows } = await tx.query(
      `select p.proretset as set, p.proargnames as names, p.proargmodes::text[] as modes, p.pronargs as nargs,
              array(select format_type(t, null) from unnest(p.proargtypes::oid[]) with ordinality u(t, i) order by i) as types,
              coalesce(
                (select array_agg(a.name order by a.ord)
                   from unnest(p.proargnames, p.proargmodes::text[]) with ordinality a(name, mode, ord)
                  where a.mode in ('t', 'o')),
                (select array_agg(att.attname::text order by att.attnum)
                   from pg_type ty join pg_attribute att on att.attrelid = ty.typrelid
                  where ty.oid = p.prorettype and att.attnum > 0 and not att.attisdropped)
              ) as outs
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.proname = $1`,
      [fn],
    );
    const proc = rows[0] as
      { set: boolean; names: string[] | null; modes: string[] | null; nargs: number; types: string[]; outs: string[] | null } | undefined;
    const allNames = proc?.names ?? [];
    const inNames = proc
      ? proc.modes
        ? allNames.filter((_, i) => ["i", "b", "v"].includes(proc.modes![i]!))
        : allNames.slice(0, proc.nargs)
      : [];
    const given = Object.keys(args);
    if (!proc || rows.length !== 1 || given.some((k) => !inNames.includes(k))) {
      throw new PgrstError(
        404,
        "PGRST202",
        `Could not find the function public.${fn}(${given.sort().join(", ")}) in the schema cache`,
        "Searched for the function with the given argument names, but no matches were found in the schema cache.",
      );
    }
    if (!proc.set) throw new PgrstError(400, "PGRST100", "the emulator only supports set-returning functions");
    const defs = given.map((name) => `${ident(name)} ${proc.types[inNames.indexOf(name)]}`).join(", ");
    const call = given.map((name) => `${ident(name)} := _args.${ident(name)}`).join(", ");
    const from = given.length
      ? `from json_to_record($1::text::json) as _args(${defs}), public.${ident(fn)}(${call}) _t`
      : `from public.${ident(fn)}() _t`;
    for (const [key] of search) {
      if (!["order", "limit", "offset", "select"].includes(key))
        throw new PgrstError(400, "PGRST100", `the emulator does not filter function results (${key})`);
    }
    const params = given.length ? [JSON.stringify(args)] : [];
    // The result's column names, for validating select and order.
    const columns: Columns = { types: new Map((proc.outs ?? []).map((name) => [name, "unknown"])) };
    const offset = intParam(search, "offset") ?? 0;
    const limit = Math.min(intParam(search, "limit") ?? Number.MAX_SAFE_INTEGER, this.maxRows);
    const select = columns.types.size ? selectList(search, columns, "_t") : "_t.*";
    const sql = `select ${select} ${from}${orderBy(search, columns, "_t")} limit ${limit} offset ${offset}`;
    return this.respond(tx, sql, params, { status: 200, total: null, offset, accept: request.headers.get("accept") });
  }
}
