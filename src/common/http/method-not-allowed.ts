import type { NextFunction, Request, Response } from 'express';

/**
 * The original answered a known path with the wrong method with 405 (Flask's), where Express would say 404.
 * Given the routes as `path -> methods`, this middleware answers 405 with an Allow header for those.
 */
export function methodNotAllowed(routes: Map<string, Set<string>>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    const methods = routes.get(path);
    if (methods && !methods.has(req.method) && !(req.method === 'HEAD' && methods.has('GET'))) {
      res
        .status(405)
        .set('Allow', [...methods].sort().join(', '))
        .type('text/plain; charset=utf-8');
      res.send(`Method ${req.method} not allowed on ${path}; use ${[...methods].sort().join(' or ')}`);
      return;
    }
    next();
  };
}
