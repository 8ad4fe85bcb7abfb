/**
 * The bridge between an ASL file and the deployed functions: every `${<Task>FunctionArn}`
 * placeholder must name a task of lib/workflows/tasks, and every one gets that task's function.
 */

/** `${AcquireLeaseFunctionArn}` → `AcquireLease`. */
const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;
const FUNCTION_ARN = /^([A-Za-z0-9]+)FunctionArn$/;

/** The distinct placeholder names of an ASL document, in order of first use. */
export function placeholdersOf(asl: string): string[] {
  return [...new Set([...asl.matchAll(PLACEHOLDER)].map((match) => match[1] as string))];
}

/** An ASL placeholder no deployed function stands behind: the state machine could not run it. */
export class UnboundPlaceholderError extends Error {
  readonly file: string;
  readonly placeholder: string;

  constructor(file: string, placeholder: string, known: readonly string[]) {
    super(
      `${file} uses \${${placeholder}}, but no keyheal function is deployed for it. ` +
        `Placeholders must be \${<Task>FunctionArn} with <Task> one of ${known.join(", ")} ` +
        "(lib/workflows/tasks/index.ts); add the task there and its handler under functions/workflow/.",
    );
    this.name = "UnboundPlaceholderError";
    this.file = file;
    this.placeholder = placeholder;
  }
}

/**
 * The `definitionSubstitutions` of one ASL document: each `${XFunctionArn}` mapped to the ARN of
 * task X's function.
 *
 * @throws UnboundPlaceholderError for a placeholder of another shape or an unknown task.
 */
export function substitutionsFor(
  file: string,
  asl: string,
  functionArns: Readonly<Record<string, string>>,
): Record<string, string> {
  const substitutions: Record<string, string> = {};
  const known = Object.keys(functionArns);
  for (const placeholder of placeholdersOf(asl)) {
    const task = FUNCTION_ARN.exec(placeholder)?.[1];
    const arn = task === undefined ? undefined : functionArns[task];
    if (arn === undefined) throw new UnboundPlaceholderError(file, placeholder, known);
    substitutions[placeholder] = arn;
  }
  return substitutions;
}

/** The tasks an ASL document invokes, in order of first use. */
export function tasksOf(asl: string): string[] {
  return placeholdersOf(asl).flatMap((placeholder) => {
    const task = FUNCTION_ARN.exec(placeholder)?.[1];
    return task === undefined ? [] : [task];
  });
}
