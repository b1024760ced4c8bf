/**
 * The stage infra/README.md tells operators to deploy is the protected one: sst.config.ts itself (its app()
 * evaluated with SST's $config replaced by the identity) retains and protects it, and removes other stages.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../core/errors.ts';
import { PROTECTED_STAGES, stageSettings } from '../../infra/stages.ts';

const root = resolve(import.meta.dirname, '../..');

interface AppConfig {
  app(input: { stage: string }): Promise<{ name: string; removal: string; protect: boolean; home: string }>;
}

async function sstApp(): Promise<AppConfig> {
  Object.assign(globalThis, { $config: (config: AppConfig) => config });
  return ((await import(join(root, 'sst.config.ts'))) as { default: AppConfig }).default;
}

describe('stages', () => {
  it('GIVEN infra/README.md THEN every stage it deploys is protected and retained by sst.config.ts', async () => {
    const readme = readFileSync(join(root, 'infra/README.md'), 'utf8');
    const deployed = [...readme.matchAll(/sst deploy --stage (\S+)/g)].map((match) => match[1]!);
    expect(deployed.length).toBeGreaterThan(0);
    const app = await sstApp();
    for (const stage of new Set(deployed)) {
      expect(await app.app({ stage }), stage).toMatchObject({ name: 'cascade-bot', removal: 'retain', protect: true, home: 'aws' });
      expect(PROTECTED_STAGES).toContain(stage);
    }
    // The secrets it sets go to the same stage it deploys.
    const secretStages = new Set([...readme.matchAll(/sst secret set \S+ +\S+ +--stage (\S+)/g)].map((match) => match[1]!));
    expect([...secretStages]).toEqual([...new Set(deployed)]);
  });

  it('GIVEN any other stage THEN it is removed whole (bucket and repository included)', async () => {
    const app = await sstApp();
    for (const stage of ['dev', 'production', 'staging', 'prod2']) {
      expect(await app.app({ stage }), stage).toMatchObject({ removal: 'remove', protect: false });
    }
  });

  it('GIVEN infra/stages.json THEN each stage gets its own settings, an unlisted stage the default, and bad entries are named', () => {
    expect(stageSettings('prod')).toMatchObject({ monthlyBudgetUsd: expect.any(Number) });
    const file = { default: { alarmEmails: [], monthlyBudgetUsd: 0 }, stages: { prod: { alarmEmails: ['ops@example.com'], monthlyBudgetUsd: 250 } } };
    expect(stageSettings('prod', file)).toEqual({ alarmEmails: ['ops@example.com'], monthlyBudgetUsd: 250 });
    expect(stageSettings('dev', file)).toEqual({ alarmEmails: [], monthlyBudgetUsd: 0 });
    const bad = { default: { alarmEmails: [] }, stages: { prod: { alarmEmails: ['not-mail'], budget: 3 } } };
    try {
      stageSettings('prod', bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const issues = (error as ConfigError).issues.join('\n');
      expect(issues).toContain('infra/stages.json stages.prod.alarmEmails.0: must be an e-mail address');
      expect(issues).toMatch(/stages\.prod.*budget/);
    }
  });
});
