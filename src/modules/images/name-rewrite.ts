import { DomainError } from '../../common/errors/domain-error';

/**
 * Runs `fn`; a domain error whose message names a Ceph image of `names` is rewritten to name the BMI image
 * instead (`5img7 Not Found` becomes `centos7 Not Found`), as the original did for its storage errors.
 */
export async function withBmiNames<T>(names: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DomainError) {
      for (const [ceph, bmi] of Object.entries(names)) {
        const re = new RegExp(`(^|\\s)${ceph}(?=@|\\s|$)`, 'g');
        if (re.test(e.message)) {
          Object.defineProperty(e, 'message', { value: e.message.replace(re, `$1${bmi}`), configurable: true });
        }
      }
    }
    throw e;
  }
}
