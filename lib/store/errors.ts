/**
 * Every failure of the store adapters is one of these classes. Callers (the HTTP API, the CLI,
 * the workflow handlers) tell them apart with `instanceof`, never by message.
 */

/** Base class of every error thrown by `lib/store`. */
export class StoreError extends Error {
  override name = "StoreError";
}

/** The item an update or a read needed is not there. */
export class NotFoundError extends StoreError {
  override name = "NotFoundError";
  /** What was looked for, e.g. `"device"`, `"failure"`, `"key generation"`, `"run"`. */
  readonly entity: string;
  readonly id: string;

  constructor(entity: string, id: string, options?: ErrorOptions) {
    super(`No ${entity} with id ${JSON.stringify(id)}.`, options);
    this.entity = entity;
    this.id = id;
  }
}

/** A secret reference that names no stored secret. */
export class SecretNotFoundError extends NotFoundError {
  override name = "SecretNotFoundError";

  constructor(ref: string, options?: ErrorOptions) {
    super("secret", ref, options);
  }
}

/** A short-lived secret was read after its time to live; it has been deleted. */
export class SecretExpiredError extends StoreError {
  override name = "SecretExpiredError";
  readonly ref: string;
  readonly expiredAt: string;

  constructor(ref: string, expiredAt: string, options?: ErrorOptions) {
    super(
      `Secret ${JSON.stringify(ref)} expired at ${expiredAt} and was deleted. ` +
        "Give the credential again to start a new operation.",
      options,
    );
    this.ref = ref;
    this.expiredAt = expiredAt;
  }
}

/** A secret name that could escape its store (path traversal) or that the backend refuses. */
export class InvalidSecretNameError extends StoreError {
  override name = "InvalidSecretNameError";
  readonly reason: string;

  constructor(reason: string, options?: ErrorOptions) {
    super(
      `Invalid secret name: ${reason}. Use letters, digits and / _ + = . @ - ` +
        'in "/"-separated segments, none of them empty, "." or "..".',
      options,
    );
    this.reason = reason;
  }
}

/** A pagination cursor that is malformed, tampered with, or from another listing. */
export class InvalidCursorError extends StoreError {
  override name = "InvalidCursorError";

  constructor(options?: ErrorOptions) {
    super("cursor is invalid or expired; restart the listing without it", options);
  }
}

/** An argument out of range: a page limit, a timestamp, a time to live. */
export class InvalidArgumentError extends StoreError {
  override name = "InvalidArgumentError";
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

/** Another rotation wrote the next key generation first; this one was not stored. */
export class KeyGenerationConflictError extends StoreError {
  override name = "KeyGenerationConflictError";
  readonly generation: number;

  constructor(generation: number, options?: ErrorOptions) {
    super(
      `Key generation ${generation} was created concurrently by another rotation; ` +
        "this key was not stored. List the keys and rotate again if still needed.",
      options,
    );
    this.generation = generation;
  }
}

/** The current platform key cannot be retired: rotate to a new generation first. */
export class CurrentKeyRetireError extends StoreError {
  override name = "CurrentKeyRetireError";
  readonly generation: number;

  constructor(generation: number, options?: ErrorOptions) {
    super(
      `Key generation ${generation} is the current platform key and cannot be retired; rotate first.`,
      options,
    );
    this.generation = generation;
  }
}

/** A run step update that does not match the run's recorded steps. */
export class RunStateError extends StoreError {
  override name = "RunStateError";
  readonly runId: string;

  constructor(runId: string, message: string, options?: ErrorOptions) {
    super(`Run ${runId}: ${message}`, options);
    this.runId = runId;
  }
}

/** A private-key secret does not hold the key its generation's fingerprint names. */
export class KeyMaterialMismatchError extends StoreError {
  override name = "KeyMaterialMismatchError";
  readonly generation: number;
  readonly secretRef: string;

  constructor(generation: number, secretRef: string, options?: ErrorOptions) {
    super(
      `The secret ${JSON.stringify(secretRef)} does not hold the private key of generation ` +
        `${generation} (fingerprints differ); refusing to use it. Restore the secret or rotate.`,
      options,
    );
    this.generation = generation;
    this.secretRef = secretRef;
  }
}

/**
 * A status write by a run that no longer holds the device's lease: its lease ran out and another
 * run took the device. The write was refused, not applied.
 */
export class LeaseLostError extends StoreError {
  override name = "LeaseLostError";
  readonly deviceId: string;
  readonly owner: string;
  /** The run that holds the lease now, if any. */
  readonly holder: string | undefined;

  constructor(deviceId: string, owner: string, holder: string | undefined, options?: ErrorOptions) {
    super(
      `Run ${owner} no longer holds the lease of device ${deviceId} ` +
        `(${holder ? `run ${holder} holds it now` : "it expired or another run took it"}); ` +
        "its write was refused. " +
        "The device's current run decides its status.",
      options,
    );
    this.deviceId = deviceId;
    this.owner = owner;
    this.holder = holder;
  }
}

/** The embedded store's Unix socket would not fit the system's limit on a socket path. */
export class StoreSocketPathError extends StoreError {
  override name = "StoreSocketPathError";
  readonly socketPath: string;

  constructor(socketPath: string, maxBytes: number, options?: ErrorOptions) {
    super(
      `The embedded store's socket path ${socketPath} is ${Buffer.byteLength(socketPath)} bytes, more than the ${maxBytes} a Unix socket allows: use a data directory with a shorter path.`,
      options,
    );
    this.socketPath = socketPath;
  }
}

/**
 * A batch write the engine kept leaving unprocessed (DynamoDB throttling it) after every retry:
 * the items named in it were not written or deleted. Nothing is lost; run the request again.
 */
export class UnprocessedItemsError extends StoreError {
  override name = "UnprocessedItemsError";
  readonly table: string;
  /** How many requests were still unprocessed. */
  readonly unprocessed: number;

  constructor(table: string, unprocessed: number, attempts: number, options?: ErrorOptions) {
    super(
      `${unprocessed} writes to ${table} were left unprocessed after ${attempts} attempts (the table is throttled); run the request again.`,
      options,
    );
    this.table = table;
    this.unprocessed = unprocessed;
  }
}
