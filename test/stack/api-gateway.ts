/**
 * API Gateway on this machine: the REST API's resources and methods from the template, each
 * request matched to its method and delivered to the integration's function as a Lambda proxy
 * event (the REST API's version 1.0 payload), with IAM caller identity as API Gateway fills it
 * for an AWS_IAM method. A path or method the template does not have gets API Gateway's own 403.
 */
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent } from "aws-lambda";
import type { LambdaHost } from "./lambda-host.ts";
import { ACCOUNT, type LocalTemplate } from "./template.ts";

interface Method {
  httpMethod: string;
  /** `/failures/{id}/retry` */
  resource: string;
  functionId: string;
  authorization: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export const STAGE = "v1";
const CALLER = `arn:aws:iam::${ACCOUNT}:user/operator`;

export class LocalRestApi {
  readonly methods: Method[] = [];
  readonly #lambda: LambdaHost;

  constructor(template: LocalTemplate, lambda: LambdaHost) {
    this.#lambda = lambda;
    const paths = new Map<string, string>();
    const pathOf = (resourceId: string): string => {
      const known = paths.get(resourceId);
      if (known !== undefined) return known;
      const props = template.resource(resourceId).Properties ?? {};
      const parent = props.ParentId as { Ref?: string } | undefined;
      const parentPath = parent?.Ref ? pathOf(parent.Ref) : "";
      const full = `${parentPath}/${String(props.PathPart)}`;
      paths.set(resourceId, full);
      return full;
    };
    for (const [id, props] of template.ofType("AWS::ApiGateway::Method")) {
      const integration = props.Integration as { Type?: string; Uri?: unknown } | undefined;
      if (integration?.Type !== "AWS_PROXY") continue;
      const uri = String(template.resolve(integration.Uri, id));
      const arn = /functions\/(arn:[^/]+)\/invocations$/.exec(uri)?.[1];
      if (!arn) throw new Error(`${id}: integration URI ${uri} names no function`);
      const resourceRef = props.ResourceId as { Ref?: string; "Fn::GetAtt"?: [string, string] };
      const resource = resourceRef.Ref ? pathOf(resourceRef.Ref) : "/";
      this.methods.push({
        httpMethod: String(props.HttpMethod),
        resource,
        functionId: lambda.byArn(arn).id,
        authorization: String(props.AuthorizationType),
      });
    }
  }

  #match(httpMethod: string, path: string) {
    const parts = path.split("/").filter(Boolean);
    const candidates = this.methods.flatMap((method) => {
      if (method.httpMethod !== httpMethod && method.httpMethod !== "ANY") return [];
      const template = method.resource.split("/").filter(Boolean);
      if (template.length !== parts.length) return [];
      const parameters: Record<string, string> = {};
      let literal = 0;
      for (const [i, segment] of template.entries()) {
        const part = parts[i] as string;
        const name = /^\{(.+)\}$/.exec(segment)?.[1];
        if (name) parameters[name] = decodeURIComponent(part);
        else if (segment === part) literal += 1;
        else return [];
      }
      return [{ method, parameters, literal }];
    });
    // API Gateway prefers the more literal path (`/failures/stats` over `/failures/{id}`).
    return candidates.sort((a, b) => b.literal - a.literal)[0];
  }

  /** A signed request from an operator: `request("GET", "/failures?cause=X")`. */
  async request(httpMethod: string, target: string, body?: unknown): Promise<ApiResponse> {
    const url = new URL(target, "https://api.local");
    const found = this.#match(httpMethod, url.pathname);
    if (!found) {
      return { status: 403, body: { message: "Missing Authentication Token" }, headers: {} };
    }
    const query: Record<string, string> = {};
    const multi: Record<string, string[]> = {};
    for (const [name, value] of url.searchParams) {
      query[name] = value;
      multi[name] = [...(multi[name] ?? []), value];
    }
    const text = body === undefined ? null : JSON.stringify(body);
    const headers = {
      Host: "api.local",
      "Content-Type": "application/json",
      "X-Amz-Date": new Date().toISOString().replace(/[-:]|\.\d+/g, ""),
    };
    const event: APIGatewayProxyEvent = {
      resource: found.method.resource,
      path: url.pathname,
      httpMethod,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: Object.keys(query).length ? query : null,
      multiValueQueryStringParameters: Object.keys(multi).length ? multi : null,
      pathParameters: Object.keys(found.parameters).length ? found.parameters : null,
      stageVariables: null,
      body: text,
      isBase64Encoded: false,
      requestContext: {
        accountId: ACCOUNT,
        apiId: "stackapi",
        authorizer: null,
        protocol: "HTTP/1.1",
        httpMethod,
        identity: {
          accessKey: "AKIASTACKHARNESS0000",
          accountId: ACCOUNT,
          apiKey: null,
          apiKeyId: null,
          caller: "AIDASTACKHARNESS",
          clientCert: null,
          cognitoAuthenticationProvider: null,
          cognitoAuthenticationType: null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
          principalOrgId: null,
          sourceIp: "127.0.0.1",
          user: "AIDASTACKHARNESS",
          userAgent: "stack-harness",
          userArn: found.method.authorization === "AWS_IAM" ? CALLER : null,
          vpcId: null,
          vpceId: null,
        },
        path: `/${STAGE}${url.pathname}`,
        stage: STAGE,
        requestId: randomUUID(),
        requestTimeEpoch: Date.now(),
        resourceId: "stackres",
        resourcePath: found.method.resource,
      },
    };
    const result = await this.#lambda.invoke(found.method.functionId, event);
    if (!result.ok) {
      return { status: 502, body: { message: "Internal server error" }, headers: {} };
    }
    const proxy = result.value as {
      statusCode: number;
      headers?: Record<string, string>;
      body?: string;
    };
    return {
      status: proxy.statusCode,
      headers: proxy.headers ?? {},
      body: proxy.body ? JSON.parse(proxy.body) : undefined,
    };
  }
}
