import { apiHandler } from "../lib/lambda/api-bundle.ts";

export const handler = apiHandler();
