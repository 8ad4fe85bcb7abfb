import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** The container's DynamoDB document client; `endpoint` only for tests against a local engine. */
export function awsDocumentClient(endpoint: string | undefined): DynamoDBDocumentClient {
  const dynamo = new DynamoDBClient(endpoint ? { endpoint } : {});
  return DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
}
