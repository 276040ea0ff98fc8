#!/usr/bin/env node
// Drives a hub's FHIR R4 face with an unmodified FHIR client library,
// fhir-kit-client (npm), as an agency's system would: reads the
// CapabilityStatement, posts transactions and reads the transaction-response,
// updates the Task with If-Match (and sees a stale one refused), and polls a
// Task search page by page. Exits non-zero on any failed check.
//
// Environment: FHIR_BASE (e.g. http://127.0.0.1:50051/fhir/r4), SENDER_TOKEN,
// RECEIVER_TOKEN, RECEIVER_ORG, BUNDLE (a transaction Bundle file addressed to
// RECEIVER_ORG). ./scripts/test installs the package in a throwaway directory
// and sets NODE_PATH to it; ES modules ignore NODE_PATH, so the package is
// loaded from there through its own package.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';

const env = (name) => process.env[name] || (console.error(`${name} is not set`), process.exit(2));
const packageDir = join(env('NODE_PATH').split(':')[0], 'fhir-kit-client');
const entry = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).exports['.'].import;
const { Client, CapabilityTool } = await import(pathToFileURL(join(packageDir, entry)).href);

const baseUrl = env('FHIR_BASE');
const sender = new Client({ baseUrl, bearerToken: env('SENDER_TOKEN') });
const receiver = new Client({ baseUrl, bearerToken: env('RECEIVER_TOKEN') });
const owner = `Organization/${env('RECEIVER_ORG')}`;
const example = JSON.parse(readFileSync(env('BUNDLE'), 'utf8'));
const headerOf = (resource, name) => Client.httpFor(resource).response.headers.get(name);

// What the server says it does, read as the library reads it.
const statement = await sender.capabilityStatement();
assert.equal(statement.fhirVersion, '4.0.1');
const can = new CapabilityTool(statement);
assert.ok(can.serverCan('transaction'), 'transaction');
for (const interaction of ['read', 'update', 'search-type']) assert.ok(can.resourceCan('Task', interaction), interaction);
for (const param of ['_lastUpdated', 'owner', 'status']) assert.ok(can.resourceSearch('Task', param), param);

// Two referrals, each a transaction answered entry by entry.
const ids = [];
for (const n of [1, 2]) {
  const body = structuredClone(example);
  body.identifier.value = `fhir-kit-client-${n}-${Date.now()}`;
  const response = await sender.transaction({ body });
  assert.equal(response.resourceType, 'Bundle');
  assert.equal(response.type, 'transaction-response');
  assert.equal(response.entry.length, body.entry.length, 'one response per entry');
  const location = response.entry.map((e) => e.response.location).find((l) => l?.startsWith('ServiceRequest/'));
  assert.ok(location, 'the ServiceRequest has a location');
  response.entry.forEach((e) => assert.equal(e.response.status, '201 Created'));
  ids.push(location.split('/')[1]);
}

// The receiver takes the first one in hand: read, then update with If-Match.
const task = await receiver.read({ resourceType: 'Task', id: ids[0] });
const etag = headerOf(task, 'etag');
assert.equal(etag, 'W/"1"');
assert.equal(task.status, 'requested');
const update = { ...task, status: 'received', note: [{ text: 'Seen by the duty officer' }] };
const updated = await receiver.update({ resourceType: 'Task', id: ids[0], body: update, options: { headers: { 'If-Match': etag } } });
assert.equal(updated.status, 'received');
assert.equal(updated.meta.versionId, '2');
assert.equal(headerOf(updated, 'etag'), 'W/"2"');
await assert.rejects(
  receiver.update({ resourceType: 'Task', id: ids[0], body: update, options: { headers: { 'If-Match': etag } } }),
  (error) => error.response.status === 412 && error.response.data.resourceType === 'OperationOutcome',
  'a stale If-Match is 412',
);

// The sender polls, a page at a time, as a system without a webhook receiver does.
const seen = [];
let page = await sender.search({ resourceType: 'Task', searchParams: { owner, _lastUpdated: 'ge2000-01-01', _count: 1 } });
while (page) {
  assert.equal(page.type, 'searchset');
  const entries = page.entry ?? [];
  assert.ok(entries.length <= 1, '_count is honoured');
  seen.push(...entries.map((e) => e.resource));
  page = await sender.nextPage({ bundle: page });
}
for (const id of ids) assert.ok(seen.some((t) => t.id === id), `the search finds ${id}`);
assert.equal(seen.find((t) => t.id === ids[0]).status, 'received', 'the sender sees the update');
const received = await sender.search({ resourceType: 'Task', searchParams: { owner, status: 'received' } });
assert.deepEqual((received.entry ?? []).map((e) => e.resource.id), [ids[0]]);
console.log('fhir-kit-client: all checks passed');
