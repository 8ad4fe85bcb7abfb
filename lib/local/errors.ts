/** Base class of the local runtime's own errors. */
export class LocalRuntimeError extends Error {
  override name = "LocalRuntimeError";
}

/** Another live runtime holds the data directory. */
export class RuntimeLockedError extends LocalRuntimeError {
  override name = "RuntimeLockedError";
  readonly dataDir: string;
  readonly pid: number;
  /** Null while the other runtime is still starting. */
  readonly url: string | null;

  constructor(dataDir: string, holder: { pid: number; url: string | null }) {
    super(
      `Another keyheal local runtime (pid ${holder.pid}) is already using the data directory ` +
        `${dataDir}${holder.url ? `, serving ${holder.url}` : " (still starting)"}. ` +
        `Use that one, stop it (kill ${holder.pid}), or choose another --data-dir.`,
    );
    this.dataDir = dataDir;
    this.pid = holder.pid;
    this.url = holder.url;
  }
}

/** The data directory path exists and is not a directory. */
export class InvalidDataDirError extends LocalRuntimeError {
  override name = "InvalidDataDirError";
  readonly dataDir: string;

  constructor(dataDir: string) {
    super(
      `The data directory ${dataDir} exists and is not a directory; choose another --data-dir.`,
    );
    this.dataDir = dataDir;
  }
}

/** `keyheal local start` was given arguments it cannot use. */
export class LocalUsageError extends LocalRuntimeError {
  override name = "LocalUsageError";
}
