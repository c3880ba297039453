#!/usr/bin/env node
// The reference validators the report tests run on patchwarden's output:
//   validate.js cyclonedx FILE  CycloneDX's own library, its strict JSON
//                               schema validator for spec 1.5
//   validate.js sarif FILE      Microsoft's SARIF multitool `validate`
//                               (its rules; warnings are shown, any error
//                               fails), and the SARIF 2.1.0 schema the
//                               multitool ships, through ajv: the
//                               multitool's own schema check skips enum
//                               values (a "level" of "fatal" passes it)
// Exit status: 0 valid, 1 invalid, 2 could not validate.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

function cyclonedx(file) {
  const CDX = require('@cyclonedx/cyclonedx-library');
  const v = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot5);
  return v.validate(fs.readFileSync(file, 'utf8')).then((err) => {
    if (err === null) {
      console.log(`${file}: valid CycloneDX 1.5 (strict)`);
      return 0;
    }
    console.log(`${file}: NOT valid CycloneDX 1.5:`);
    console.log(JSON.stringify(err, null, 2));
    return 1;
  });
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

function sarif(file) {
  const tool = path.join(__dirname, 'node_modules', '@microsoft', 'sarif-multitool-linux',
    'Sarif.Multitool');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sarif-'));
  const out = path.join(dir, 'validation.sarif');
  try {
    const r = spawnSync(tool, ['validate', file, '-o', out], { encoding: 'utf8' });
    if (r.error || !fs.existsSync(out)) {
      console.log(`${file}: the SARIF multitool did not run (exit ${r.status}): ` +
        `${r.error || ''}\n${r.stdout}${r.stderr}`);
      return 2;
    }
    const log = JSON.parse(fs.readFileSync(out, 'utf8'));
    let errors = sarifSchema(file, tool), warnings = 0;
    for (const run of log.runs) {
      const rules = (run.tool.driver.rules || []);
      for (const res of run.results || []) {
        const rule = rules[res.ruleIndex] || {};
        const level = res.level ||
          (rule.defaultConfiguration && rule.defaultConfiguration.level) || 'warning';
        const args = (res.message.arguments || []).join(' | ');
        const text = res.message.text ||
          `${res.message.id}${args ? ': ' + args : ''}`;
        console.log(`  ${level} ${res.ruleId}: ${text}`);
        if (level === 'error') errors++;
        else warnings++;
      }
      for (const inv of run.invocations || []) {
        for (const n of inv.toolExecutionNotifications || []) {
          if ((n.level || 'warning') === 'error') {
            console.log(`  error (tool): ${n.message.text}`);
            errors++;
          }
        }
      }
    }
    console.log(`${file}: SARIF multitool and schema: ${errors} errors, ${warnings} warnings` +
      ` (exit ${r.status})`);
    return errors || r.status !== 0 ? 1 : 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const [kind, file] = process.argv.slice(2);
if (!file || !['cyclonedx', 'sarif'].includes(kind)) {
  console.error('usage: validate.js cyclonedx|sarif FILE');
  process.exit(2);
}
Promise.resolve(kind === 'cyclonedx' ? cyclonedx(file) : sarif(file))
  .then((rc) => process.exit(rc), (e) => { console.error(String(e)); process.exit(2); });
