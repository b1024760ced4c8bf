/**
 * kill -9 storm on the runner, the long version of test/adversarial/runner-chaos.test.ts: J jobs on
 * the emulator, a runner process SIGKILLed K times, each at a random moment 0–1.5 s after it took its
 * first job, and started again; the last one is left to finish. Prints N jobs, N kills (and how many hit a job in progress), N lost, N duplicated,
 * N dead-lettered; asserts nothing.
 *
 * Measured (2 shared cores, 2026-12-07, seed 4242, 406 s): 300 jobs, 100 kills (91 while a job was in progress),
 * 51 jobs retried; 0 lost, 0 duplicated, 0 dead-lettered.
 *
 *   nice node bench/adversarial-chaos.ts [kills=100] [jobs=300] [seed]
 */
import { runChaos } from '../test/adversarial/support/runner-chaos.ts';

const kills = Number(process.argv[2] ?? 100);
const jobs = Number(process.argv[3] ?? 300);
const seed = Number(process.argv[4] ?? Date.now() % 100_000);
const figures = await runChaos({ jobs, kills, minLifeMs: 0, maxLifeMs: 1500, stepMs: 150, seed, finishTimeoutMs: 10 * 60_000 });
console.log(`seed ${seed}, ${figures.seconds.toFixed(0)} s`);
console.log(`${figures.jobs} jobs, ${figures.kills} kills (${figures.killsMidJob} while a job was in progress), ${figures.retried} jobs retried`);
console.log(`${figures.lost} lost, ${figures.duplicated} duplicated, ${figures.deadLettered} dead-lettered`);
