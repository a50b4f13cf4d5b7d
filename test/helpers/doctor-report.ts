import assert from 'node:assert/strict';
import type { DoctorReport } from '../../src/cli/doctor/report.js';
import type { StepName, StepResult } from '../../src/cli/doctor/step-result.js';
import { runCli } from './cli-run.js';

/** `switchboard doctor ...args --json`, in-process: the exit status and the parsed report. */
export async function doctorJson(args: readonly string[]): Promise<{ status: number; report: DoctorReport; step: (name: StepName) => StepResult }> {
  const run = await runCli(['doctor', ...args, '--json']);
  assert.equal(run.stderr, '', 'nothing on stderr');
  const report = JSON.parse(run.stdout) as DoctorReport;
  const step = (name: StepName): StepResult => {
    const found = report.steps.find((s) => s.step === name);
    assert.ok(found, `the report has a ${name} step`);
    return found;
  };
  return { status: run.status, report, step };
}
