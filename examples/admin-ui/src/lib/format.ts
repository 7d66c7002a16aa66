const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatDateTime(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : "never";
}

export function percent(fraction: number | undefined, digits = 1): string {
  return fraction === undefined ? "–" : `${(fraction * 100).toFixed(digits)}%`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}
