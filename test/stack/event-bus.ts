/**
 * EventBridge on this machine: every rule of the template, on its bus, with its event pattern
 * and its targets; an event put on a bus is delivered to the target of each rule it matches
 * (the whole event, or what the target's InputTransformer makes of it), as an asynchronous Lambda
 * invocation of that function's bundle.
 */
import { matchesPattern, transformInput } from "./event-pattern.ts";
import type { Invocation, LambdaHost } from "./lambda-host.ts";
import type { LocalTemplate } from "./template.ts";

export interface Rule {
  id: string;
  bus: string;
  pattern: Record<string, never>;
  targets: Array<{
    functionId: string;
    transformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
  }>;
}

export interface Delivery {
  rule: string;
  functionId: string;
  input: unknown;
  result: Invocation;
}

export class LocalEventBus {
  readonly rules: Rule[] = [];
  readonly deliveries: Delivery[] = [];
  readonly #lambda: LambdaHost;

  constructor(template: LocalTemplate, lambda: LambdaHost) {
    this.#lambda = lambda;
    for (const [id, props] of template.ofType("AWS::Events::Rule")) {
      if (!props.EventPattern) continue; // a schedule, not an event rule
      const resolved = template.resolve(props, id) as {
        EventBusName?: string;
        EventPattern: Record<string, never>;
        Targets: Array<{ Arn: string; InputTransformer?: Rule["targets"][number]["transformer"] }>;
      };
      this.rules.push({
        id,
        bus: resolved.EventBusName ?? "default",
        pattern: resolved.EventPattern,
        targets: resolved.Targets.map((target) => ({
          functionId: lambda.byArn(target.Arn).id,
          ...(target.InputTransformer ? { transformer: target.InputTransformer } : {}),
        })),
      });
    }
  }

  /** The rules an event on `bus` matches. */
  matching(event: unknown, bus = "default"): Rule[] {
    return this.rules.filter((rule) => rule.bus === bus && matchesPattern(rule.pattern, event));
  }

  /** Puts an event on a bus; resolves once every matching target has been invoked. */
  async put(event: unknown, bus = "default"): Promise<Delivery[]> {
    const deliveries = await Promise.all(
      this.matching(event, bus).flatMap((rule) =>
        rule.targets.map(async (target) => {
          const input = target.transformer ? transformInput(target.transformer, event) : event;
          const result = await this.#lambda.invoke(target.functionId, input);
          const delivery = { rule: rule.id, functionId: target.functionId, input, result };
          this.deliveries.push(delivery);
          return delivery;
        }),
      ),
    );
    return deliveries;
  }
}
