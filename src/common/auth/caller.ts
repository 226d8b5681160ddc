/** A caller's HIL (or standalone BMI) username and password, from HTTP Basic auth. Never logged. */
export interface Credentials {
  username: string;
  password: string;
}

/** Who is asking, and on behalf of which project: built from the Basic auth header and the `project` field. */
export interface Caller {
  credentials: Credentials;
  project: string;
  /** the client's address, for throttling refused logins; absent outside HTTP */
  address?: string;
}
