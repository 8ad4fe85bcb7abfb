import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { Annotations, Duration, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3deploy from "aws-cdk-lib/aws-s3-deployment";
import { Construct } from "constructs";

/** What API Gateway passes through unchanged without binaryMediaTypes (which the API avoids). */
const TEXT_EXTENSIONS = new Set([
  ".html",
  ".js",
  ".mjs",
  ".css",
  ".json",
  ".map",
  ".txt",
  ".svg",
  ".webmanifest",
]);

export interface ConsoleFilesProps {
  /** The built console (`npm run build:web`). */
  distDir: string;
  devMode: boolean;
}

/**
 * The console's built files in a private bucket: no public access, TLS only, server access
 * logs, and readable by one role alone, the one the ops API's `/console` routes use. Skipped
 * with a warning when the console is not built, so synth still works without web/dist.
 */
export class ConsoleFiles extends Construct {
  /** Undefined when web/dist was absent at synth time. */
  readonly bucket: s3.Bucket | undefined;
  /** The role API Gateway reads the files with. */
  readonly readRole: iam.Role | undefined;

  constructor(scope: Construct, id: string, props: ConsoleFilesProps) {
    super(scope, id);
    if (!existsSync(path.join(props.distDir, "index.html"))) {
      Annotations.of(this).addWarningV2(
        "keyheal:console-not-built",
        `The console is not built (${props.distDir}/index.html is missing), so it is not deployed: run npm run build:web, then deploy again.`,
      );
      this.bucket = undefined;
      this.readRole = undefined;
      return;
    }
    const binary = readdirSync(props.distDir, { recursive: true, encoding: "utf8" }).filter(
      (file) => path.extname(file) !== "" && !TEXT_EXTENSIONS.has(path.extname(file)),
    );
    if (binary.length > 0) {
      Annotations.of(this).addWarningV2(
        "keyheal:console-binary-files",
        `The console build holds binary files (${binary.slice(0, 5).join(", ")}); the ops API serves /console as text, so these would arrive corrupted. Inline them, or give the API binaryMediaTypes for their types.`,
      );
    }
    const removal = props.devMode
      ? { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true }
      : { removalPolicy: RemovalPolicy.RETAIN };
    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      ...removal,
    });
    this.bucket = new s3.Bucket(this, "Files", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Console files are the published web/ build, not data: S3-managed keys suffice, and
      // API Gateway reads them without a KMS grant.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "console/",
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      ...removal,
    });
    new s3deploy.BucketDeployment(this, "Upload", {
      sources: [s3deploy.Source.asset(props.distDir)],
      destinationBucket: this.bucket,
      prune: true,
      memoryLimit: 256,
    });
    this.readRole = new iam.Role(this, "ReadRole", {
      assumedBy: new iam.ServicePrincipal("apigateway.amazonaws.com"),
      description: "keyheal ops API: read the console's files",
    });
    this.readRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["s3:GetObject"],
        resources: [this.bucket.arnForObjects("*")],
      }),
    );
  }
}
