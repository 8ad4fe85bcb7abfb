import type { AuthStatus, Cause } from "../contract/vocabulary.ts";

/** Where a device stands with keyheal (docs/architecture.md, Domain). */
export { AUTH_STATUSES, type AuthStatus } from "../contract/vocabulary.ts";

/** What an inventory file, discovery or the API registers. */
export interface DeviceRegistration {
  id: string;
  host: string;
  port: number;
  adminUser: string;
  instanceId?: string | undefined;
  region?: string | undefined;
  hostKeyFingerprint?: string | undefined;
  authorizedKeysPath?: string | undefined;
}

export interface Device extends DeviceRegistration {
  status: AuthStatus;
  /**
   * The platform key generation last proven on a connection (the device accepted its key), when
   * known. Retirement keeps every generation from this one on.
   */
  keyGeneration: number | null;
  /** When {@link keyGeneration} was proven. */
  keyProvenAt?: string | undefined;
  /** The status the device had when the current or last run took it (and marked it RESOLVING). */
  statusBeforeRun?: AuthStatus | undefined;
  hostKeyFingerprint?: string | undefined;
  lastFailureCause: Cause | null;
  createdAt: string;
  updatedAt: string;
  lastCheckedAt?: string | undefined;
}

/** One page of a list; `nextCursor` is opaque and absent on the last page. */
import type { Page } from "../paging/page.ts";

export type { Page };

export interface DeviceStatusUpdate {
  status?: AuthStatus;
  keyGeneration?: number | null;
  keyProvenAt?: string;
  statusBeforeRun?: AuthStatus;
  hostKeyFingerprint?: string;
  lastFailureCause?: Cause | null;
  lastCheckedAt?: string;
}

export interface DeviceListQuery {
  status?: AuthStatus;
  search?: string;
  sorted?: boolean;
  limit?: number;
  cursor?: string;
}

/** The lease a status write is fenced by, and whether the write gives it back. */
export interface DeviceWriteFence {
  leaseOwner: string;
  release?: boolean | undefined;
}

/** Devices and their per-device lease. */
export interface DeviceStore {
  /** Creates the device (status UNKNOWN) or updates its address fields, keeping its status. */
  register(input: DeviceRegistration): Promise<Device>;
  get(id: string): Promise<Device | undefined>;
  /**
   * By status through an index when `status` is given; never a filtered scan. `search` finds
   * devices whose id, host or admin user starts with it (any case), each through its own index;
   * `sorted` lists every device by id through an index. Without either, every device in store
   * order (what a fan-out over the fleet needs).
   */
  list(query: DeviceListQuery): Promise<Page<Device>>;
  /** How many devices hold each auth status, counted on the status index. */
  countByStatus(): Promise<Record<AuthStatus, number>>;
  /**
   * With `leaseOwner`, applied only while that run holds the device's lease (a fenced write);
   * otherwise refused with `LeaseLostError`. With `release` too, the same write gives the lease
   * back; applied again after it (a retried step whose answer was lost), it finds the lease free
   * and the device already as it writes it, and succeeds.
   */
  update(id: string, update: DeviceStatusUpdate, fence?: DeviceWriteFence): Promise<Device>;
  remove(id: string): Promise<boolean>;
  /** Conditional write: succeeds when no lease is held or the held one has expired. */
  acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean>;
  /**
   * Takes the lease (as `acquireLease`) and sets the status RESOLVING in one conditional write,
   * keeping the status before it in `statusBeforeRun` unless the device was already RESOLVING.
   * The device as written; undefined when another run holds the lease or the device is unknown.
   */
  takeLease(id: string, owner: string, ttlMs: number): Promise<Device | undefined>;
  /** Conditional on `owner` still holding the lease. */
  extendLease(id: string, owner: string, ttlMs: number): Promise<boolean>;
  /** `extendLease` answering the device in the same write; undefined when `owner` lost it. */
  holdLease(id: string, owner: string, ttlMs: number): Promise<Device | undefined>;
  releaseLease(id: string, owner: string): Promise<boolean>;
  /**
   * Remembers that a check was asked for while `owner`-less runs were shut out: set only while
   * another run than `asker` holds an unexpired lease. False when the lease is free (the asker
   * should take it instead).
   */
  requestRecheck(id: string, asker: string): Promise<boolean>;
  /** Releases `owner`'s lease and takes the remembered recheck request with it, if any. */
  releaseLeaseTakingRecheck(
    id: string,
    owner: string,
  ): Promise<{ released: boolean; recheck: boolean }>;
}
