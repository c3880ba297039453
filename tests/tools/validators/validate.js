#!/usr/bin/env node
// The reference validators the report tests run on patchwarden's output:
//   validate.js cyclonedx FILE...  CycloneDX's own library, its strict JSON
//                               schema validator for spec 1.5
//   validate.js sarif FILE...      Microsoft's SARIF multitool `validate`
//                               (its rules; warnings are shown, any error
//                               fails), and the SARIF 2.1.0 schema the
//                               multitool ships, through ajv: the
//                               multitool's own schema check skips enum
//                               values (a "level" of "fatal" passes it)
// Each file gets a closing line "FILE: ... N errors ..." (or "valid").
// Exit status: 0 all valid, 1 one is invalid, 2 could not validate.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

async function cyclonedx(files) {
  const CDX = require('@cyclonedx/cyclonedx-library');
  const v = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot5);
  let rc = 0;
  for (const file of files) {
    const err = await v.validate(fs.readFileSync(file, 'utf8'));
    if (err === null) {
      console.log(`${file}: valid CycloneDX 1.5 (strict), 0 errors`);
      continue;
    }
    console.log(JSON.stringify(err, null, 2));
    console.log(`${file}: NOT valid CycloneDX 1.5, 1 errors`);
    rc = 1;
  }
  return rc;
}

// The SARIF schema (JSON Schema 2020-12) that the multitool package ships.
function sarifSchema(file, tool) {
  const Ajv2020 = require('ajv/dist/2020');
  const addFormats = require('ajv-formats');
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const schema = JSON.parse(fs.readFileSync(path.join(path.dirname(tool), 'sarif-2.1.0.json'),
    'utf8'));
  const check = ajv.compile(schema);
  if (check(JSON.parse(fs.readFileSync(file, 'utf8')))) return 0;
  for (const e of check.errors.slice(0, 20))
    console.log(`  error schema: ${e.instancePath || '/'} ${e.message}` +
      `${e.params && e.params.allowedValues ? ': ' + e.params.allowedValues.join(', ') : ''}`);
  return check.errors.length;
}

const TOOL = path.join(__dirname, 'node_modules', '@microsoft', 'sarif-multitool-linux',
  'Sarif.Multitool');

// One multitool run over `files`: adds its remarks to `count` (per file);
// returns the errors it could not attribute, or -1 when it did not run.
function multitool(files, count) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sarif-'));
  const out = path.join(dir, 'validation.sarif');
  try {
    const r = spawnSync(TOOL, ['validate', ...files, '-o', out], { encoding: 'utf8' });
    if (r.error || !fs.existsSync(out)) {
      console.log(`the SARIF multitool did not run (exit ${r.status}): ` +
        `${r.error || ''}\n${r.stdout}${r.stderr}`);
      return -1;
    }
    const log = JSON.parse(fs.readFileSync(out, 'utf8'));
    let unattributed = r.status !== 0 ? 1 : 0;
    for (const run of log.runs) {
      const rules = (run.tool.driver.rules || []);
      for (const res of run.results || []) {
        const rule = rules[res.ruleIndex] || {};
        const level = res.level ||
          (rule.defaultConfiguration && rule.defaultConfiguration.level) || 'warning';
        const args = (res.message.arguments || []).join(' | ');
        const text = res.message.text ||
          `${res.message.id}${args ? ': ' + args : ''}`;
        const loc = res.locations && res.locations[0] && res.locations[0].physicalLocation;
        const uri = loc && loc.artifactLocation && loc.artifactLocation.uri;
        const c = uri && count.get(decodeURIComponent(uri.replace(/^file:\/\//, '')));
        console.log(`  ${level} ${res.ruleId}: ${uri || ''}: ${text}`);
        if (!c) unattributed += level === 'error';
        else if (level === 'error') c.errors++, c.remarks++;
        else c.warnings++, c.remarks++;
      }
      for (const inv of run.invocations || []) {
        for (const n of inv.toolExecutionNotifications || []) {
          if ((n.level || 'warning') === 'error') {
            console.log(`  error (tool): ${n.message.text}`);
            unattributed++;
          }
        }
      }
    }
    if (unattributed)
      console.log(`SARIF multitool: ${unattributed} errors of no file (exit ${r.status})`);
    return unattributed;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The multitool once for all files (a run takes seconds), its results told
// apart by the file they name. It reads a value it cannot deserialize (an
// unknown enum value) as the end of its work, silently, for that file and
// those after it: a file with results that drew no remark at all is run
// again alone, and one that still draws none was not read (an error;
// patchwarden's results have no regions, so the multitool always remarks).
function sarif(files) {
  const count = new Map(files.map((f) => [path.resolve(f),
    { errors: 0, warnings: 0, remarks: 0 }]));
  for (const f of files) count.get(path.resolve(f)).errors += sarifSchema(f, TOOL);
  let unattributed = multitool(files, count);
  if (unattributed < 0) return 2;
  for (const f of files) {
    const c = count.get(path.resolve(f));
    const results = JSON.parse(fs.readFileSync(f, 'utf8')).runs
      .reduce((n, run) => n + ((run && run.results) || []).length, 0);
    if (!results || c.remarks) continue;
    const again = multitool([f], count);
    if (again < 0) return 2;
    unattributed += again;
    if (!c.remarks) {
      console.log(`  error: ${f}: the multitool read none of its ${results} results`);
      c.errors++;
    }
  }
  let rc = unattributed ? 1 : 0;
  for (const f of files) {
    const c = count.get(path.resolve(f));
    console.log(`${f}: SARIF multitool and schema: ${c.errors} errors, ${c.warnings} warnings`);
    if (c.errors) rc = 1;
  }
  return rc;
}

const [kind, ...files] = process.argv.slice(2);
if (!files.length || !['cyclonedx', 'sarif'].includes(kind)) {
  console.error('usage: validate.js cyclonedx|sarif FILE...');
  process.exit(2);
}
Promise.resolve(kind === 'cyclonedx' ? cyclonedx(files) : sarif(files))
  .then((rc) => process.exit(rc), (e) => { console.error(String(e)); process.exit(2); });
