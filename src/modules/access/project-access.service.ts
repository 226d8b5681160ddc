import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Caller, Credentials } from '../../common/auth/caller';
import { AppConfig } from '../../config/app-config';
import { HilClient, HilNode } from '../hil/hil.client';
import {
  AdminRequiredError,
  HilAuthenticationError,
  HilProjectNotFoundError,
  NodeNotOwnedError,
} from '../hil/hil.errors';
import { ProjectsService } from '../projects/projects.service';
import { AccessLevel, ProjectScope } from './access-level';
import { LoginThrottle } from './login-throttle';
import { Metrics } from '../../common/observability/metrics';

/**
 * BMI's authorisation rules, the same for every face (REST, CLI), decided here and nowhere else:
 * - the credentials are checked first, throttled (LoginThrottle), before anything is looked up, so that a
 *   caller without good credentials learns nothing, not even which projects exist (the original answered 404
 *   for an unknown project before checking them);
 * - every call acts from a project BMI knows (404 otherwise, reference §2.1);
 * - a project-scoped operation needs access to the project in HIL (member or HIL admin);
 * - admin operations need a HIL admin or a member of the admin project ([bmi] admin_project);
 * - a node may be provisioned or deprovisioned only when HIL says it belongs to the caller's project.
 */
@Injectable()
export class ProjectAccess {
  private readonly granted: GrantCache;
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly hil: HilClient,
    private readonly projects: ProjectsService,
    private readonly config: AppConfig,
    metrics?: Metrics,
  ) {
    // Standalone mode answers from BMI's own DB: no round trip to save, and a revoked member must lose access
    // at once, so grants are kept only for a remote HIL.
    const ttlMs = config.drivers.netIsolator === 'standalone' ? 0 : config.netIsolator.cacheSeconds * 1000;
    this.granted = new GrantCache(ttlMs, Date.now, (kind, hit) =>
      metrics?.accessChecks.inc({ kind, cache: hit ? 'hit' : 'miss' }),
    );
    this.throttle = new LoginThrottle(config.auth, (outcome) => metrics?.loginFailures.inc({ outcome }));
  }

  /** The caller's project, once the caller is found to have `level` access from it. */
  async resolve(caller: Caller, level: AccessLevel): Promise<ProjectScope> {
    await this.authenticate(caller);
    const project = await this.projects.require(caller.project);
    if (level === 'member') await this.assertProjectAccess(caller);
    else if (level === 'admin') await this.assertAdmin(caller);
    return new ProjectScope(caller, project, level, (node) => this.ownedNode(caller, node));
  }

  /**
   * The credentials are good (HIL, or the standalone directory, knows the user with this password); refused
   * ones count towards the caller's throttle. Recently checked credentials are not checked again.
   */
  private async authenticate(caller: Caller): Promise<void> {
    const c = caller.credentials;
    await this.granted.remember('user', c, '', () =>
      this.throttle.guard(
        c.username,
        caller.address,
        () => this.hil.isAdmin(c),
        (e) => e instanceof HilAuthenticationError,
      ),
    );
  }

  private async assertProjectAccess(caller: Caller): Promise<void> {
    await this.granted.remember('project', caller.credentials, caller.project, async () => {
      try {
        await this.hil.listProjectNodes(caller.credentials, caller.project);
      } catch (e) {
        // A BMI project HIL does not know (the admin project, typically) is open to HIL admins only. A 401
        // is final: HIL admins can list every project's nodes.
        if (e instanceof HilProjectNotFoundError && (await this.hil.isAdmin(caller.credentials))) return;
        throw e;
      }
    });
  }

  private async assertAdmin(caller: Caller): Promise<void> {
    await this.granted.remember('admin', caller.credentials, '', () => this.checkAdmin(caller));
  }

  private async checkAdmin(caller: Caller): Promise<void> {
    if (await this.hil.isAdmin(caller.credentials)) return;
    try {
      await this.hil.listProjectNodes(caller.credentials, this.config.bmi.adminProject);
      return;
    } catch (e) {
      if (e instanceof HilAuthenticationError || e instanceof HilProjectNotFoundError) {
        // isAdmin succeeded above, so the credentials are good: the caller is simply not an admin.
        throw new AdminRequiredError();
      }
      throw e;
    }
  }

  private async ownedNode(caller: Caller, node: string): Promise<HilNode> {
    const n = await this.hil.getNode(caller.credentials, node);
    if (n.project !== caller.project) {
      throw new NodeNotOwnedError(
        n.project === null
          ? `Node ${node} is free: it must belong to project ${caller.project}`
          : `Node ${node} does not belong to project ${caller.project}`,
      );
    }
    return n;
  }
}

/**
 * Access granted recently, per credentials and project, so that one request (or a burst of them) asks HIL
 * once. Only grants are kept, for a few seconds at most; refusals always go back to HIL. Keys hold a hash of
 * the password, never the password.
 */
export class GrantCache {
  private readonly until = new Map<string, number>();
  private static readonly MAX_ENTRIES = 10000;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly counted: (kind: string, hit: boolean) => void = () => undefined,
  ) {}

  async remember(kind: string, c: Credentials, scope: string, check: () => Promise<unknown>): Promise<void> {
    if (this.ttlMs <= 0) {
      this.counted(kind, false);
      await check();
      return;
    }
    const key = [kind, c.username, createHash('sha256').update(c.password).digest('hex'), scope].join('\0');
    const expiry = this.until.get(key);
    const hit = expiry !== undefined && expiry > this.now();
    this.counted(kind, hit);
    if (hit) return;
    await check();
    if (this.until.size >= GrantCache.MAX_ENTRIES) this.prune();
    this.until.set(key, this.now() + this.ttlMs);
  }

  private prune(): void {
    const now = this.now();
    for (const [key, expiry] of this.until) if (expiry <= now) this.until.delete(key);
    if (this.until.size >= GrantCache.MAX_ENTRIES) this.until.clear();
  }
}
