/**
 * Stages: which ones hold real users' data, and each stage's committed operator settings (infra/stages.json).
 *
 * A protected stage keeps its bucket (and everything SST marks retainable) on `sst remove` and refuses to
 * be removed at all while `protect` is on; every other stage is removed whole. infra/README.md deploys the
 * first of these names, and test/infra/stages.test.ts checks that the stage the README deploys is one of them.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import stagesFile from './stages.json' with { type: 'json' };

export const PROTECTED_STAGES = ['prod'] as const;

export function isProtectedStage(stage: string | undefined): boolean {
  return stage !== undefined && (PROTECTED_STAGES as readonly string[]).includes(stage);
}

/** The removal settings of SST's `app()` for a stage. */
export function stageRemovalPolicy(stage: string | undefined): { removal: 'retain' | 'remove'; protect: boolean } {
  const protectedStage = isProtectedStage(stage);
  return { removal: protectedStage ? 'retain' : 'remove', protect: protectedStage };
}

const StageSettingsSchema = z.strictObject({
  alarmEmails: z.array(z.email('must be an e-mail address')).max(20).default([]),
  monthlyBudgetUsd: z.number().min(0).max(1_000_000).default(0),
});
const StagesFileSchema = z.object({
  default: StageSettingsSchema,
  stages: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]*$/, 'stage names are letters, digits and "-"'), StageSettingsSchema),
});

export type StageSettings = z.infer<typeof StageSettingsSchema>;

/** The settings of one stage from a parsed stages file; ConfigError names every bad entry. */
export function stageSettings(stage: string, file: unknown = stagesFile): StageSettings {
  const parsed = StagesFileSchema.safeParse(file);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => `infra/stages.json ${issue.path.join('.')}: ${issue.message}`));
  return parsed.data.stages[stage] ?? parsed.data.default;
}
