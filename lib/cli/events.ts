/**
 * `keyheal events reconnect DEVICE_ID`: tells keyheal a device is back, as the probe loop and
 * EventBridge do, which starts the reconnect workflow for it.
 *
 * @module
 */
import { type CommandSpec, checkDeviceId } from "./command.ts";
import { InputError } from "./errors.ts";
import { finishStarted, WAIT } from "./runs.ts";

export const eventsCommands: CommandSpec[] = [
  {
    words: ["events", "reconnect"],
    usage: "events reconnect DEVICE_ID [--wait]",
    summary: "Send a Device Reconnected event: detect the device's key and heal a conflict.",
    details:
      "The event goes to POST /events like any EventBridge event; a redelivered event starts no second run.",
    options: { ...WAIT },
    positionals: { name: "DEVICE_ID", min: 1, max: 1 },
    api: true,
    json: true,
    async run(context) {
      const deviceId = context.args.positionals[0] as string;
      checkDeviceId(deviceId, "events reconnect");
      const { deviceReconnectedEvent } = await import("../events/build.ts");
      const event = deviceReconnectedEvent({
        deviceId,
        reason: "operator: keyheal events reconnect",
        observedAt: context.io.now().toISOString(),
        time: context.io.now().toISOString(),
      });
      const client = await context.client();
      const answer = await client.postEvent(event);
      if (answer.outcome === "ignored") {
        throw new InputError(`no run started for ${deviceId}: ${answer.message}`);
      }
      const what =
        answer.outcome === "duplicate"
          ? `A reconnect run for ${deviceId} already exists`
          : `Reconnect started for ${deviceId}`;
      return finishStarted(context, [{ runId: answer.runId, deviceId }], answer, what);
    },
  },
];
