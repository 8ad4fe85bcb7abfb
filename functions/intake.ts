import { intakeHandler } from "../lib/lambda/intake-bundle.ts";

export const handler = intakeHandler();
