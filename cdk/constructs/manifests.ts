import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";

/**
 * The rotation manifests: device ids the rotate workflow's Distributed Map reads (ItemReader)
 * and the results it writes (ResultWriter), so the fleet never passes through a state's input
 * or output (docs/scale.md). Ids only, no keys; they expire after a week.
 */
export class Manifests extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: { devMode: boolean }) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, "Bucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Step Functions reads the manifests itself; S3-managed keys need no KMS grant for it.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(7) }],
      ...(props.devMode
        ? { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true }
        : { removalPolicy: RemovalPolicy.RETAIN }),
    });
  }
}
