/**
 * The read-only board page: functions/board-page.ts behind a public function URL. Its URL goes to the dispatcher
 * and the front ends as BOARD_PAGE_URL, the base of every page link they show (…/boards/{id}?t={token}).
 */
import type { InfraConfig } from '../config.ts';
import { boardPageStatements, type AppArns } from '../iam-policies.ts';
import { functionEnvironment } from '../runtime-env.ts';
import { appEnvironmentFields, LAMBDA_RUNTIME } from './function-defaults.ts';
import { functionPermissions } from './permissions.ts';
import type { Queues } from './queues.ts';

export interface BoardPageInputs {
  config: InfraConfig;
  queues: Queues;
  bucket: sst.aws.Bucket;
  fleetGroupName: string;
  arns: $util.Output<AppArns>;
}

export function createBoardPage({ config, queues, bucket, fleetGroupName, arns }: BoardPageInputs) {
  return new sst.aws.Function('BoardPage', {
    handler: 'functions/board-page.handler',
    runtime: LAMBDA_RUNTIME,
    url: true,
    // An open board's exports (collage, PDF, zip) are rendered on request.
    timeout: '30 seconds',
    memory: '1024 MB',
    // sharp is a native addon: installed for the Lambda's platform instead of bundled.
    nodejs: { install: ['sharp'] },
    // A public URL: a flood of requests stops at this many concurrent copies.
    concurrency: { reserved: config.frontEndConcurrency },
    environment: functionEnvironment<$util.Input<string>>(appEnvironmentFields({ config, queues, bucket, fleetGroupName })),
    permissions: functionPermissions(arns, boardPageStatements),
  });
}
