import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/integration/global-setup.ts"],
          // Handlers log and emit metrics as on Lambda; tests keep the output readable.
          env: { POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "ERROR" },
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Each file starts its own sshd fleet; two cores run two files at once.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: "cdk",
          include: ["test/cdk/**/*.test.ts"],
          // One synthesis per file (esbuild bundles every function in one of them).
          testTimeout: 60_000,
          hookTimeout: 180_000,
          maxWorkers: 2,
        },
      },
      {
        test: {
          // The synthesized stack run end to end on this machine (docs/testing.md): one synthesis
          // with every function bundled, DynamoDB Local, real sshd devices.
          name: "stack",
          include: ["test/stack/**/*.test.ts"],
          globalSetup: ["test/integration/global-setup.ts", "test/stack/global-setup.ts"],
          env: { POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "ERROR" },
          testTimeout: 90_000,
          // Synthesis bundles 19 functions with esbuild: about a minute on an idle 2-core machine.
          hookTimeout: 420_000,
          maxWorkers: 1,
        },
      },
      {
        test: {
          name: "reliability",
          include: ["test/reliability/**/*.test.ts"],
          // The soak runs after these, alone (`npm run test:soak`, in `npm test`): its time limit
          // and its RSS check measure the runtime, not the suites running beside it.
          exclude: ["test/reliability/soak.test.ts"],
          // Real sshd devices and runtimes, as the integration tests (pool users, passwords).
          globalSetup: ["test/integration/global-setup.ts"],
          env: { POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "ERROR" },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
          // The fault matrix runs one column per device at once (test/reliability/matrix.test.ts).
          maxConcurrency: 8,
        },
      },
      {
        test: {
          name: "soak",
          include: ["test/reliability/soak.test.ts"],
          globalSetup: ["test/integration/global-setup.ts"],
          env: { POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "ERROR" },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 1,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // The console drives a real runtime and real sshd devices (pool users, passwords).
          globalSetup: ["test/integration/global-setup.ts"],
          env: { POWERTOOLS_METRICS_DISABLED: "true", POWERTOOLS_LOG_LEVEL: "ERROR" },
          testTimeout: 90_000,
          hookTimeout: 120_000,
          // A page's refresh after a click can take more than the one second expect.poll waits by default.
          expect: { poll: { timeout: 10_000 } },
          // One runtime, one small fleet and one Chromium per file.
          maxWorkers: 2,
        },
      },
    ],
  },
});
