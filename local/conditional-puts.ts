/**
 * Conditional creates in the local emulator, as S3 serves them: a PutObject with `If-None-Match: *` fails with
 * 412 PreconditionFailed when the key exists (S3 since August 2024). fauxqs 1.9.2 (and 2.4.1) ignore the header
 * and overwrite, which would let two board members claim the same pin slot; with this hook the emulator answers
 * exactly like S3, so `S3BlobStore.putIfAbsent` (one code path for both) is exact locally and in tests too.
 *
 * Atomic per key within the emulator process: a create reserves its key synchronously before it looks for the
 * object, and a second create of a reserved key is refused at once (one of the two will have created it, or
 * the key existed for both). The reservation lasts until the response is sent.
 */
import type { buildApp } from 'fauxqs';

type FastifyInstance = ReturnType<typeof buildApp>;

const PRECONDITION_FAILED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>';

export function honourConditionalCreates(app: FastifyInstance): void {
  const reserved = new Set<string>();
  const held = new WeakSet<object>();
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'PUT' || request.headers['if-none-match'] === undefined) return;
    const url = new URL(request.url, 'http://local');
    const [bucket, ...rest] = url.pathname.slice(1).split('/');
    if (!bucket || rest.length === 0 || url.searchParams.has('partNumber')) return;
    if (request.headers['if-none-match'] !== '*') {
      // S3 accepts only `*` on PutObject.
      return reply.code(501).header('content-type', 'application/xml').send('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NotImplemented</Code><Message>If-None-Match accepts only *</Message></Error>');
    }
    const id = `${bucket}/${rest.join('/')}`;
    if (reserved.has(id)) return refuse(reply);
    reserved.add(id);
    held.add(request);
    const head = await app.inject({ method: 'HEAD', url: url.pathname });
    if (head.statusCode === 200) return refuse(reply);
  });
  app.addHook('onResponse', async (request) => {
    if (!held.has(request)) return;
    const url = new URL(request.url, 'http://local');
    reserved.delete(url.pathname.slice(1));
  });
}

function refuse(reply: { code(status: number): { header(name: string, value: string): { send(body: string): unknown } } }) {
  return reply.code(412).header('content-type', 'application/xml').send(PRECONDITION_FAILED);
}
