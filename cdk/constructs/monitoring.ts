import { Duration } from "aws-cdk-lib";
import type * as apigw from "aws-cdk-lib/aws-apigateway";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { CAUSES } from "../../lib/failures/causes.ts";
import type { Workflow } from "./workflows.ts";

/**
 * Where the functions' Powertools metrics go: the namespace and service of
 * lib/lambda/powertools.ts (a test checks the two agree).
 */
export const METRICS = { namespace: "keyheal", dimensions: { service: "keyheal" } } as const;

/** Alarm windows: long enough that one slow device does not page anyone. */
const WINDOW = Duration.minutes(15);

export interface MonitoringProps {
  workflows: Readonly<Record<string, Workflow>>;
  deadLetters: Readonly<Record<string, sqs.IQueue>>;
  api: apigw.RestApi;
  key: kms.IKey;
  failedRunsThreshold: number;
  failureSpikeThreshold: number;
  alarmEmail?: string | undefined;
}

/**
 * Alarms and a dashboard for the people who run keyheal: failed runs per state machine, a spike
 * of failures of any one cause (from the `Failed_<cause>` metrics RecordFailure emits, one alarm
 * per cause of lib/failures/causes.ts), anything in a dead-letter queue, and API errors; all
 * notify one encrypted topic.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, "Alarms", {
      displayName: "keyheal alarms",
      masterKey: props.key,
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    const notify = new actions.SnsAction(this.topic);
    const alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...alarmProps,
      });
      created.addAlarmAction(notify);
      this.alarms.push(created);
      return created;
    };

    for (const [name, { stateMachine }] of Object.entries(props.workflows)) {
      alarm(`${name}RunsFailed`, {
        alarmDescription: `keyheal ${name} runs failed, timed out or were aborted: see the failures list (keyheal failures list) for causes and handling steps.`,
        metric: new cloudwatch.MathExpression({
          expression: "failed + timedOut + aborted",
          label: `${name} runs failed`,
          period: WINDOW,
          usingMetrics: {
            failed: stateMachine.metricFailed({ period: WINDOW, statistic: "Sum" }),
            timedOut: stateMachine.metricTimedOut({ period: WINDOW, statistic: "Sum" }),
            aborted: stateMachine.metricAborted({ period: WINDOW, statistic: "Sum" }),
          },
        }),
        threshold: props.failedRunsThreshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    const causeMetrics = Object.entries(CAUSES).map(
      ([cause, { hint }]) =>
        [
          cause,
          hint,
          new cloudwatch.Metric({
            namespace: METRICS.namespace,
            metricName: `Failed_${cause}`,
            dimensionsMap: { ...METRICS.dimensions },
            statistic: "Sum",
            period: WINDOW,
          }),
        ] as const,
    );
    for (const [cause, hint, metric] of causeMetrics) {
      alarm(`Spike${cause}`, {
        alarmDescription: `Spike of ${cause} failures. ${hint}`,
        metric,
        threshold: props.failureSpikeThreshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    for (const [name, queue] of Object.entries(props.deadLetters)) {
      alarm(`${name}DeadLetters`, {
        alarmDescription: `Undelivered keyheal events in the ${name} dead-letter queue: inspect them, fix the cause, then redrive or send them again.`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: "Maximum",
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    alarm("ApiServerErrors", {
      alarmDescription:
        "The keyheal ops API answers 5xx: see the API function's log group for the error.",
      metric: props.api.metricServerError({ period: Duration.minutes(5), statistic: "Sum" }),
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });

    const runs = Object.entries(props.workflows).map(
      ([name, { stateMachine }]) =>
        new cloudwatch.GraphWidget({
          title: `${name} runs`,
          width: 8,
          left: [
            stateMachine.metricStarted({ period: Duration.minutes(5), label: "started" }),
            stateMachine.metricSucceeded({ period: Duration.minutes(5), label: "succeeded" }),
            stateMachine.metricFailed({ period: Duration.minutes(5), label: "failed" }),
          ],
        }),
    );
    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      defaultInterval: Duration.days(1),
      widgets: [
        runs,
        [
          new cloudwatch.GraphWidget({
            title: "Failures by cause",
            width: 12,
            stacked: true,
            left: causeMetrics.map(([cause, , metric]) =>
              metric.with({ period: Duration.minutes(5), label: cause }),
            ),
          }),
          new cloudwatch.GraphWidget({
            title: "Conflicts detected and healed",
            width: 12,
            left: ["ConflictsDetected", "ConflictsHealed"].map(
              (metricName) =>
                new cloudwatch.Metric({
                  namespace: METRICS.namespace,
                  metricName,
                  dimensionsMap: { ...METRICS.dimensions },
                  statistic: "Sum",
                  period: Duration.minutes(5),
                }),
            ),
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: "Events taken in (by reason)",
            width: 12,
            left: ["EventsAccepted", "EventsIgnored", "EventsRejected"].map(
              (metricName) =>
                new cloudwatch.MathExpression({
                  expression: `SUM(SEARCH('{${METRICS.namespace},reason,service} MetricName="${metricName}"', 'Sum', 300))`,
                  label: metricName,
                  period: Duration.minutes(5),
                }),
            ),
          }),
          new cloudwatch.GraphWidget({
            title: "Dead-letter queues",
            width: 12,
            left: Object.entries(props.deadLetters).map(([name, queue]) =>
              queue.metricApproximateNumberOfMessagesVisible({ label: name }),
            ),
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: "Ops API",
            width: 12,
            left: [
              props.api.metricCount({ label: "requests" }),
              props.api.metricClientError({ label: "4xx" }),
              props.api.metricServerError({ label: "5xx" }),
            ],
            right: [props.api.metricLatency({ statistic: "p95", label: "p95 latency" })],
          }),
          new cloudwatch.AlarmStatusWidget({
            title: "Alarms",
            width: 12,
            alarms: this.alarms,
          }),
        ],
      ],
    });
  }
}
