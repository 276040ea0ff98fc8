#!/usr/bin/env node
// Validates JSON files against a JSON schema with ajv (all errors, formats
// checked by ajv-formats): the Primero adapter's tests check every outbound
// document against the schema Primero's record validation builds from its
// forms and lookups (tests/fixtures/primero/case_schema.json), or the
// transition schema, both with additionalProperties: false.
// Usage: node scripts/validate-primero.js SCHEMA FILE...; exits 1 if any file is invalid.
// ./scripts/test installs ajv in a throwaway directory and names it in
// REFERRAL_HUB_PRIMERO_NODE_MODULES (else ajv is looked up as usual).
'use strict';
const fs = require('fs');
const path = require('path');
const modules = process.env.REFERRAL_HUB_PRIMERO_NODE_MODULES;
const load = (name) => require(modules ? path.join(modules, name) : name);
const Ajv = load('ajv');
const addFormats = load('ajv-formats');

const [schemaFile, ...files] = process.argv.slice(2);
if (!schemaFile || files.length === 0) {
  console.error('usage: validate-primero.js SCHEMA FILE...');
  process.exit(2);
}
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
let failed = 0;
for (const file of files) {
  const document = JSON.parse(fs.readFileSync(file, 'utf8'));
  // Primero validates the record, the body's `data`.
  if (validate(document.data)) {
    console.log(`${file}: valid`);
  } else {
    failed += 1;
    console.error(`${file}: INVALID`);
    for (const e of validate.errors.slice(0, 30)) {
      console.error(`  data${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
    }
  }
}
process.exit(failed === 0 ? 0 : 1);
