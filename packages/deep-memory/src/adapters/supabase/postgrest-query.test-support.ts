/** The PostgREST query grammar the emulator accepts (filters, or=, order, select, Prefer), turned into SQL. */

const IDENT = /^[a-z_][a-z0-9_]*$/;
const RESERVED_PARAMS = new Set(["select", "order", "limit", "offset", "on_conflict", "columns", "or"]);

export class PgrstError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string | null = null,
    readonly hint: string | null = null,
  ) {
    super(message);
  }
}

export function ident(name: string): string {
  if (!IDENT.test(name)) throw new PgrstError(400, "PGRST100", `"failed to parse identifier" (${name})`);
  return `"${name}"`;
}

/** Splits on top-level commas, honouring "double quoted" values with backslash escapes. */
export function splitList(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === "\\" && i + 1 < text.length) current += text[++i];
      else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(current);
      current = "";
    } else current += ch;
  }
  if (quoted) throw new PgrstError(400, "PGRST100", "unterminated quoted value");
  out.push(current);
  return out;
}

/** The value of a logic-tree entry (`col.op.value`): quoted or up to the end. */
function unquote(value: string): string {
  if (value.startsWith('"') && value.endsWith('"')) return splitList(value)[0]!;
  return value;
}

export interface Columns {
  types: Map<string, string>;
}

export interface SqlParts {
  params: unknown[];
  where: string[];
}

function condition(column: string, opValue: string, columns: Columns, parts: SqlParts, alias: string): string {
  const type = columns.types.get(column);
  if (!type) throw new PgrstError(400, "42703", `column ${alias}.${column} does not exist`);
  const col = `${alias}.${ident(column)}`;
  const dot = opValue.indexOf(".");
  if (dot < 0) throw new PgrstError(400, "PGRST100", `"failed to parse filter" (${opValue})`);
  const op = opValue.slice(0, dot);
  const value = opValue.slice(dot + 1);
  const bind = (v: unknown, cast: string) => {
    parts.params.push(v);
    return `$${parts.params.length}::${cast}`;
  };
  const comparisons: Record<string, string> = { eq: "=", neq: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=" };
  if (op in comparisons) return `${col} ${comparisons[op]} ${bind(value, `text::${type}`)}`;
  if (op === "in") {
    if (!value.startsWith("(") || !value.endsWith(")")) throw new PgrstError(400, "PGRST100", `"failed to parse filter" (in.${value})`);
    const inner = value.slice(1, -1);
    const items = inner === "" ? [] : splitList(inner);
    return `${col} = any(${bind(items, `text[]::${type}[]`)})`;
  }
  if (op === "is") {
    const v = value.toLowerCase();
    if (!["null", "true", "false", "unknown"].includes(v)) throw new PgrstError(400, "PGRST100", `"failed to parse filter" (is.${value})`);
    return `${col} is ${v}`;
  }
  if (op === "cs") return `${col} @> ${bind(value, `text::${type}`)}`;
  throw new PgrstError(400, "PGRST100", `"unsupported operator in the emulator" (${op})`);
}

export function filters(search: URLSearchParams, columns: Columns, parts: SqlParts, alias: string): void {
  for (const [key, value] of search) {
    if (RESERVED_PARAMS.has(key)) continue;
    parts.where.push(condition(key, value, columns, parts, alias));
  }
  const or = search.get("or");
  if (or !== null) {
    if (!or.startsWith("(") || !or.endsWith(")")) throw new PgrstError(400, "PGRST100", `"failed to parse logic tree" (${or})`);
    const terms = splitTopLevel(or.slice(1, -1)).map((term) => {
      const first = term.indexOf(".");
      if (first < 0) throw new PgrstError(400, "PGRST100", `"failed to parse logic tree" (${term})`);
      const column = term.slice(0, first);
      const rest = term.slice(first + 1);
      const op = rest.slice(0, rest.indexOf("."));
      return condition(column, `${op}.${unquote(rest.slice(op.length + 1))}`, columns, parts, alias);
    });
    parts.where.push(`(${terms.join(" or ")})`);
  }
}

/** Splits a logic tree's terms on commas outside quotes and parentheses, keeping quotes. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      current += ch;
      if (ch === "\\" && i + 1 < text.length) current += text[++i];
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"') quoted = true;
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(current);
      current = "";
    } else current += ch;
  }
  out.push(current);
  return out;
}

export function orderBy(search: URLSearchParams, columns: Columns, alias: string): string {
  const order = search.get("order");
  if (!order) return "";
  const terms = order.split(",").map((term) => {
    const [column, ...mods] = term.split(".");
    if (!column || !columns.types.has(column)) throw new PgrstError(400, "42703", `column ${alias}.${column} does not exist`);
    let sql = `${alias}.${ident(column)}`;
    for (const mod of mods) {
      if (mod === "asc" || mod === "desc") sql += ` ${mod}`;
      else if (mod === "nullsfirst") sql += " nulls first";
      else if (mod === "nullslast") sql += " nulls last";
      else throw new PgrstError(400, "PGRST100", `"failed to parse order" (${term})`);
    }
    return sql;
  });
  return ` order by ${terms.join(", ")}`;
}

export function selectList(search: URLSearchParams, columns: Columns, alias: string): string {
  const select = search.get("select") ?? "*";
  if (select === "*") return `${alias}.*`;
  return select
    .split(",")
    .map((name) => {
      if (!columns.types.has(name)) throw new PgrstError(400, "42703", `column ${alias}.${name} does not exist`);
      return `${alias}.${ident(name)}`;
    })
    .join(", ");
}

export function parsePrefer(headers: Headers): Map<string, string> {
  const prefer = new Map<string, string>();
  for (const part of (headers.get("prefer") ?? "").split(",")) {
    const [key, value] = part.trim().split("=");
    if (key) prefer.set(key, value ?? "");
  }
  return prefer;
}

export function intParam(search: URLSearchParams, name: string): number | undefined {
  const raw = search.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new PgrstError(400, "PGRST100", `"failed to parse ${name}" (${raw})`);
  return n;
}
