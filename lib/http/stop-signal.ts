/**
 * The first SIGTERM or SIGINT; a second one while stopping exits at once (130). `name` says
 * who is exiting (`keyheal local runtime`, `keyheal console`).
 */
export function waitForStopSignal(name: string): Promise<string> {
  return new Promise((resolveSignal) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      const force = (again: NodeJS.Signals) => {
        process.stderr.write(`${name}: ${again} again, exiting without waiting\n`);
        process.exit(130);
      };
      process.once("SIGTERM", force);
      process.once("SIGINT", force);
      resolveSignal(signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
