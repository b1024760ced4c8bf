/** IAM statements (infra/iam-policies.ts) in the shape `sst.aws.Function` takes as `permissions`. */
import type { AppArns, PolicyStatement } from '../iam-policies.ts';

export function functionPermissions(arns: $util.Output<AppArns>, statementsFor: (resolved: AppArns) => PolicyStatement[]) {
  return arns.apply((resolved) => statementsFor(resolved).map((statement) => ({ actions: statement.Action, resources: statement.Resource })));
}
