// Reads bun's JUnit report and prints the one line CI reads: "N passed, N failed".
// A failed type check counts as one failure; a test run that crashed without a report fails too.
import { existsSync, readFileSync } from 'node:fs';

const [file = '.ci/out/junit.xml', typecheckFailed = '0', testStatus = '0'] = process.argv.slice(2);
let passed = 0;
let failed = Number(typecheckFailed) > 0 ? 1 : 0;
if (existsSync(file)) {
  const xml = readFileSync(file, 'utf8');
  for (const m of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = m[2] ?? '';
    if (/<(failure|error)\b/.test(body)) failed += 1;
    else if (!/<skipped\b/.test(body)) passed += 1;
  }
  if (Number(testStatus) !== 0 && failed === 0) failed += 1; // e.g. an error outside any test
} else {
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
