/**
 * A Lambda function-URL event (payload format 2.0) around a raw POST body, the shape both chat
 * Lambdas receive. The platform helpers add their own signature headers (Discord: Ed25519 in
 * test/discord/support/signed-interactions.ts; Slack: HMAC in test/slack/support/signed-requests.ts).
 */
import type { LambdaFunctionURLEvent } from 'aws-lambda';

export function functionUrlPost(body: string, headers: Record<string, string>, options: { base64?: boolean } = {}): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'test',
      domainName: 'test.lambda-url.us-east-1.on.aws',
      domainPrefix: 'test',
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? 'test' },
      requestId: 'test',
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: options.base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
    isBase64Encoded: options.base64 === true,
  };
}

/** A function-URL request without a body (the board page Lambda's GETs): path and raw query as Lambda passes them. */
export function functionUrlRequest(method: string, rawPath: string, rawQueryString = '', headers: Record<string, string> = {}): LambdaFunctionURLEvent {
  const event = functionUrlPost('', headers);
  return { ...event, rawPath, rawQueryString, body: undefined, isBase64Encoded: false, requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method, path: rawPath } } };
}
