import type { OpenAPIObject } from '@nestjs/swagger';

/** An answer seen by a test: method, path (query left out) and status. */
export interface SeenAnswer {
  method: string;
  path: string;
  status: number;
}

/**
 * The answers whose status the document does not list for their route: each path is matched against the
 * document's templates (`/v1/projects/{project}`: one segment per parameter); an unknown route counts as
 * undocumented too, unless it was meant to be unknown (a 404 or a 405 on purpose: `unknownOk`).
 */
export function undocumented(doc: OpenAPIObject, seen: SeenAnswer[], unknownOk: (a: SeenAnswer) => boolean): string[] {
  const routes = Object.entries(doc.paths).map(([template, item]) => ({
    re: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    item: item as Record<string, { responses?: Record<string, unknown> }>,
  }));
  const out: string[] = [];
  for (const a of seen) {
    const path = a.path.split('?')[0];
    // the most specific template: a literal segment beats a parameter
    const op = routes
      .filter((r) => r.re.test(path) && r.item[a.method.toLowerCase()])
      .sort((x, y) => y.re.source.length - x.re.source.length)[0]?.item[a.method.toLowerCase()];
    if (!op) {
      if (!unknownOk(a)) out.push(`${a.method} ${path}: no such route in the document`);
      continue;
    }
    if (!op.responses?.[String(a.status)]) out.push(`${a.method} ${path} -> ${a.status}`);
  }
  return [...new Set(out)];
}
