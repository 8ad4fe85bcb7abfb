/**
 * How every function is bundled: one set of esbuild settings, turned into the NodejsFunction
 * bundling options the stack deploys and into the esbuild build options the bundle-size
 * benchmark measures, so the two cannot disagree.
 */
import { type BundlingOptions, Charset, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import type { BuildOptions } from "esbuild";

/**
 * Where the AWS SDK comes from at run time.
 *
 * - `runtime`: the SDK v3 the Lambda Node.js 24 runtime ships (not in the bundle);
 * - `bundled`: our pinned SDK, inside each bundle.
 */
export type SdkSource = "runtime" | "bundled";

/**
 * The SDK the deployed functions use: the one the Lambda Node.js 24 runtime ships. Measured by
 * bench/bundle-size.ts (bench/RESULTS.md): with the SDK left to the runtime every function's
 * bundle stays within the 500 kB goal; with our pinned SDK inside, none does (the DynamoDB and
 * Secrets Manager clients with their Smithy core and credential chain are ~360 kB before any
 * keyheal code). The price is a slower cold import where the runtime's untrimmed clients are
 * large (EC2: ~100 ms more for the three functions that call it; ~20 ms for the others), and
 * an SDK version that follows AWS's runtime updates rather than the one the tests pinned: keyheal
 * uses long-stable commands only. Set "bundled" to trade the size back for those.
 */
export const DEPLOYED_SDK: SdkSource = "runtime";

/** The SDK's packages (and the Smithy packages it is built on). */
const SDK_MODULES = ["@aws-sdk/*", "@smithy/*"];

/**
 * ssh2 loads these optional native modules inside try/catch and falls back to pure JavaScript;
 * they are not built here (see package.json allowScripts) and Lambda has no compiler.
 */
const OPTIONAL_NATIVE_MODULES = ["cpu-features"];

/** The esbuild settings every function is bundled with. */
export interface BundleSettings {
  readonly target: string;
  readonly format: "cjs";
  readonly minify: boolean;
  /** ESM entry points first, so esbuild can tree-shake dependencies that ship both. */
  readonly mainFields: readonly string[];
  /** Modules left out of the bundle and loaded at run time. */
  readonly external: readonly string[];
  /** UTF-8 output: shorter than \u escapes for the non-ASCII strings of dependencies. */
  readonly charset: "utf8";
}

/** The settings for an SDK source; the deployed functions use {@link DEPLOYED_SDK}. */
export function bundleSettings(sdk: SdkSource = DEPLOYED_SDK): BundleSettings {
  return {
    target: "node24",
    // CommonJS: `require("@aws-sdk/…")` resolves the runtime's SDK through NODE_PATH, the path
    // the Lambda runtime documents; nothing keyheal runs on Lambda needs ESM-only features.
    format: "cjs",
    minify: true,
    mainFields: ["module", "main"],
    external: [...OPTIONAL_NATIVE_MODULES, ...(sdk === "runtime" ? SDK_MODULES : [])],
    charset: "utf8",
  };
}

/**
 * NodejsFunction bundling options for the settings: local esbuild (from node_modules), never
 * Docker, and no source maps (they would double the asset and need --enable-source-maps,
 * which slows every cold start).
 */
export function nodejsBundling(settings: BundleSettings): BundlingOptions {
  return {
    forceDockerBundling: false,
    target: settings.target,
    format: OutputFormat.CJS,
    minify: settings.minify,
    sourceMap: false,
    mainFields: [...settings.mainFields],
    // Replaces NodejsFunction's default (`@aws-sdk/*`), so the bundled variant really bundles.
    externalModules: [...settings.external],
    bundleAwsSDK: !settings.external.includes("@aws-sdk/*"),
    charset: Charset.UTF8,
  };
}

/** esbuild build options for the same settings, bundling `entry` into `outfile`. */
export function esbuildOptions(
  settings: BundleSettings,
  entry: string,
  outfile: string,
): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: settings.target,
    format: settings.format,
    minify: settings.minify,
    mainFields: [...settings.mainFields],
    external: [...settings.external],
    charset: settings.charset,
    metafile: true,
    logLevel: "error",
  };
}
