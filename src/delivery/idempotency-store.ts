/** The answer a request got, kept to be given again to its retries. */
export interface StoredAnswer {
  /** HTTP status. */
  status: number;
  /** The JSON body, as sent. */
  body: string;
}

/** What a store holds under an idempotency key: the request's fingerprint and, once it finished, its answer. */
export interface IdempotencyRecord {
  /** Hash of the request that claimed the key: a retry must carry the same. */
  fingerprint: string;
  /** The first attempt's answer; absent while that attempt is still running. */
  answer?: StoredAnswer;
}

/**
 * Where idempotency keys are kept, so a retry of a request runs it once and gets the first
 * answer. An attempt claims a key, then completes it with its answer or releases it (it
 * failed and did nothing: a retry may run it). A store shared by every node (Redis)
 * deduplicates retries that reach another node. Keys arrive already scoped and hashed.
 */
export interface IdempotencyStore {
  /**
   * Claim `key` for an attempt (`token` names it), held for `leaseMs` unless completed.
   * Resolves undefined when the claim is this attempt's, or with the record already there.
   */
  claim(key: string, fingerprint: string, token: string, leaseMs: number): Promise<IdempotencyRecord | undefined>;
  /** The attempt `token` finished: keep its answer for `ttlMs` (unless another attempt holds the key now). */
  complete(key: string, token: string, record: Required<IdempotencyRecord>, ttlMs: number): Promise<void>;
  /** The attempt `token` failed having done nothing: forget its claim so that a retry runs. */
  release(key: string, token: string): Promise<void>;
}
