import { Credentials } from './hil.client';

/** Who is asking, and on behalf of which project: built from the Basic auth header and the `project` field. */
export interface Caller {
  credentials: Credentials;
  project: string;
}
