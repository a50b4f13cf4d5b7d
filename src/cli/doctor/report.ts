/** How the doctor's findings are shown: a line per step for people, one JSON document for scripts. */
import { StepStatus, type StepResult } from './step-result.js';

const MARK: Record<StepStatus, string> = { pass: '✓', warn: '!', fail: '✗', skip: '-' };
const NAME_WIDTH = 9;

/** `✓ tcp       connected to …`, with `→ fix` on a warning or failure. */
export function stepLine(result: StepResult): string {
  const fix = result.fix !== undefined && (result.status === StepStatus.Fail || result.status === StepStatus.Warn) ? ` → ${result.fix}` : '';
  return `${MARK[result.status]} ${result.step.padEnd(NAME_WIDTH)} ${result.found}${fix}\n`;
}

/** Whether the deployment passed: no step failed (warnings and skips do not fail it). */
export function passed(results: readonly StepResult[]): boolean {
  return results.every((r) => r.status !== StepStatus.Fail);
}

export function summaryLine(results: readonly StepResult[]): string {
  const count = (status: StepStatus): number => results.filter((r) => r.status === status).length;
  const parts = [`${count(StepStatus.Pass)} passed`, `${count(StepStatus.Warn)} warned`, `${count(StepStatus.Fail)} failed`, `${count(StepStatus.Skip)} skipped`];
  const first = results.find((r) => r.status === StepStatus.Fail);
  return `\n${parts.join(', ')}: ${first ? `FAIL — fix the ${first.step} step first` : 'OK'}\n`;
}

/** The `--json` document. */
export interface DoctorReport {
  /** The WebSocket URL tested (after http→ws and the default path). */
  url: string;
  ok: boolean;
  steps: StepResult[];
}

export function jsonReport(url: string, results: StepResult[]): string {
  const report: DoctorReport = { url, ok: passed(results), steps: results };
  return `${JSON.stringify(report, null, 2)}\n`;
}
