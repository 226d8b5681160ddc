import type { NextFunction, Request, Response } from 'express';
import { isV1Path } from './v1-face';

/** Matches a request path against route patterns (`/v1/projects/:project`: one segment per parameter). */
class RouteTable {
  private readonly exact = new Map<string, Set<string>>();
  private readonly patterns: { re: RegExp; methods: Set<string> }[] = [];

  constructor(routes: Map<string, Set<string>>) {
    for (const [path, methods] of routes) {
      if (!path.includes(':')) {
        this.exact.set(path, methods);
        continue;
      }
      const segments = path
        .split('/')
        .map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      this.patterns.push({ re: new RegExp(`^${segments.join('/')}$`), methods });
    }
  }

  methods(path: string): Set<string> | undefined {
    const exact = this.exact.get(path);
    if (exact) return exact;
    const found = this.patterns.filter((p) => p.re.test(path));
    return found.length ? new Set(found.flatMap((p) => [...p.methods])) : undefined;
  }
}

/**
 * The original answered a known path with the wrong method with 405 (Flask's), where Express would say 404.
 * Given the routes as `path -> methods` (Express patterns such as `/v1/projects/:project`), this middleware
 * answers 405 with an Allow header for those: in plain text on the original's routes, with the JSON error body
 * on the /v1 routes.
 */
export function methodNotAllowed(routes: Map<string, Set<string>>) {
  const table = new RouteTable(routes);
  return (req: Request, res: Response, next: NextFunction): void => {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    const methods = table.methods(path);
    if (methods && !methods.has(req.method) && !(req.method === 'HEAD' && methods.has('GET'))) {
      const allow = [...methods].sort();
      const message = `Method ${req.method} not allowed on ${path}; use ${allow.join(' or ')}`;
      res.status(405).set('Allow', allow.join(', '));
      // it runs before any other middleware: the face is told by the path
      if (!isV1Path(path)) res.type('text/plain; charset=utf-8').send(message);
      else res.json({ code: 'METHOD_NOT_ALLOWED', message, details: { allow } });
      return;
    }
    next();
  };
}
