import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';

const START = '<!-- bench:results (written by `npm run bench -- --update-docs`) -->';
const END = '<!-- /bench:results -->';

/**
 * Put a run's tables into docs/PERFORMANCE.md, between its markers, and keep its JSON as
 * bench/results/reference.json (the one results file git tracks).
 */
export function recordInDocs(root: string, report: string, resultsFile: string): void {
  const doc = `${root}docs/PERFORMANCE.md`;
  const text = readFileSync(doc, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${doc} has no ${START} … ${END} block to write the results into`);
  writeFileSync(doc, `${text.slice(0, start + START.length)}\n\n${report}\n\n${text.slice(end)}`);
  const reference = `${root}bench/results/reference.json`;
  if (resultsFile !== reference) copyFileSync(resultsFile, reference);
}
