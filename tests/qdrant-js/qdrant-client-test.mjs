// Runs Qdrant's official JavaScript client (@qdrant/js-client-rest) against a server that speaks Qdrant's REST API:
//   node qdrant-client-test.mjs http://127.0.0.1:6333
// Every step asserts what Qdrant documents; the first failure prints the step and the error and exits 1.
import assert from 'node:assert/strict';
import { QdrantClient } from '@qdrant/js-client-rest';

const url = process.argv[2];
if (!url) {
  console.error('usage: node qdrant-client-test.mjs <server url>');
  process.exit(2);
}

// The client compares its version with the one GET / answers and only warns when they differ; OxiVec answers its own
// version, not Qdrant's, so the check is off.
const client = new QdrantClient({ url, checkCompatibility: false });
const collection = 'js_client_docs';
const other = 'js_client_batch';
const berlin = 'f0e5b0c2-3c3f-4e4a-9a43-2d0b7c1a8e11';
const paris = '7a6c2f0e-1b2d-4c5e-8f90-a1b2c3d4e5f6';

// Cosine vectors of unit length, so the vectors come back the same whether the server keeps them as given or scaled.
const points = [
  { id: 1, vector: [1, 0, 0, 0], payload: { city: 'Berlin', n: 1, tags: ['a', 'b'], open: true } },
  { id: 2, vector: [0, 1, 0, 0], payload: { city: 'London', n: 2, tags: ['b'], open: false } },
  { id: 3, vector: [0, 0, 1, 0], payload: { city: 'London', n: 3, tags: [], open: true } },
  { id: 4, vector: [0, 0, 0, 1], payload: { city: 'Paris', n: 4, open: true } },
  { id: berlin, vector: [0.6, 0.8, 0, 0], payload: { city: 'Berlin', n: 5, price: 12.5 } },
  { id: paris, vector: [0, 0, 0.8, 0.6], payload: { city: 'Paris', n: 6, price: 7.25 } },
];

function assertVector(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: dimension`);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${what}: component ${i} is ${v}, expected ${expected[i]}`));
}

function sortedIds(ids) {
  return ids.map(String).sort();
}

async function retrieveOne(id) {
  const found = await client.retrieve(collection, { ids: [id], with_payload: true, with_vector: false });
  return found.length === 0 ? undefined : found[0];
}

const steps = [
  ['versionInfo (GET /)', async () => {
    const info = await client.versionInfo();
    assert.equal(typeof info.title, 'string');
    assert.equal(typeof info.version, 'string');
  }],
  ['collectionExists before create', async () => {
    assert.deepEqual(await client.collectionExists(collection), { exists: false });
  }],
  ['createCollection', async () => {
    assert.equal(await client.createCollection(collection, { vectors: { size: 4, distance: 'Cosine' } }), true);
  }],
  ['getCollections lists it', async () => {
    const { collections } = await client.getCollections();
    assert.ok(collections.some((c) => c.name === collection), JSON.stringify(collections));
  }],
  ['getCollection', async () => {
    const info = await client.getCollection(collection);
    assert.equal(info.status, 'green');
    assert.equal(info.points_count, 0);
    assert.equal(info.config.params.vectors.size, 4);
    assert.equal(info.config.params.vectors.distance, 'Cosine');
  }],
  ['upsert (numeric and UUID ids, payloads, wait)', async () => {
    const result = await client.upsert(collection, { wait: true, points });
    assert.equal(result.status, 'completed');
  }],
  ['retrieve with payload and vector', async () => {
    const found = await client.retrieve(collection, { ids: [1, berlin, 99], with_payload: true, with_vector: true });
    assert.equal(found.length, 2);
    const byId = new Map(found.map((p) => [p.id, p]));
    assert.deepEqual(byId.get(1).payload, points[0].payload);
    assert.deepEqual(byId.get(berlin).payload, points[4].payload);
    assertVector(byId.get(1).vector, points[0].vector, 'point 1');
    assertVector(byId.get(berlin).vector, points[4].vector, `point ${berlin}`);
  }],
  ['query with a filter and a limit', async () => {
    const { points: hits } = await client.query(collection, {
      query: [0.9, 0.1, 0, 0],
      limit: 2,
      filter: { must: [{ key: 'city', match: { value: 'Berlin' } }] },
      with_payload: true,
    });
    assert.deepEqual(hits.map((h) => h.id), [1, berlin]);
    assert.ok(hits[0].score >= hits[1].score);
    assert.ok(hits.every((h) => h.payload.city === 'Berlin'));
  }],
  ['search with range and must_not', async () => {
    const hits = await client.search(collection, {
      vector: [0, 0, 0.7, 0.7],
      limit: 3,
      filter: { must: [{ key: 'n', range: { gte: 2 } }], must_not: [{ key: 'city', match: { value: 'London' } }] },
    });
    assert.deepEqual(hits.map((h) => h.id), [paris, 4, berlin]);
    assert.equal(hits[0].payload.city, 'Paris');
  }],
  ['query with match any and limit 1 without payload', async () => {
    const { points: hits } = await client.query(collection, {
      query: [0, 1, 0, 0],
      limit: 1,
      filter: { must: [{ key: 'tags', match: { any: ['b'] } }] },
      with_payload: false,
    });
    assert.equal(hits.length, 1);
    assert.equal(hits[0].id, 2);
    assert.ok(hits[0].payload === undefined || hits[0].payload === null);
  }],
  ['scroll pages through next_page_offset', async () => {
    const seen = [];
    let offset;
    for (let page = 0; page < 10; page++) {
      const result = await client.scroll(collection, { limit: 4, offset, with_payload: false });
      assert.ok(result.points.length <= 4);
      seen.push(...result.points.map((p) => p.id));
      offset = result.next_page_offset;
      if (offset === null || offset === undefined) {
        break;
      }
    }

    assert.equal(offset ?? null, null, 'scroll did not end within 10 pages');
    assert.deepEqual(sortedIds(seen), sortedIds(points.map((p) => p.id)));
  }],
  ['scroll with a filter', async () => {
    const result = await client.scroll(collection, { filter: { must: [{ key: 'city', match: { value: 'Paris' } }] }, limit: 10 });
    assert.deepEqual(sortedIds(result.points.map((p) => p.id)), sortedIds([4, paris]));
    assert.equal(result.next_page_offset ?? null, null);
  }],
  ['count', async () => {
    assert.deepEqual(await client.count(collection, { exact: true }), { count: 6 });
    assert.deepEqual(await client.count(collection, { filter: { must: [{ key: 'open', match: { value: true } }] } }), { count: 3 });
  }],
  ['setPayload merges', async () => {
    assert.equal((await client.setPayload(collection, { payload: { color: 'red' }, points: [1, 2], wait: true })).status, 'completed');
    assert.deepEqual((await retrieveOne(1)).payload, { ...points[0].payload, color: 'red' });
    assert.deepEqual((await retrieveOne(2)).payload, { ...points[1].payload, color: 'red' });
  }],
  ['overwritePayload replaces', async () => {
    await client.overwritePayload(collection, { payload: { only: 'this' }, points: [3], wait: true });
    assert.deepEqual((await retrieveOne(3)).payload, { only: 'this' });
  }],
  ['deletePayload removes keys', async () => {
    await client.deletePayload(collection, { keys: ['color', 'tags'], points: [1], wait: true });
    const { city, n, open } = points[0].payload;
    assert.deepEqual((await retrieveOne(1)).payload, { city, n, open });
  }],
  ['clearPayload empties', async () => {
    await client.clearPayload(collection, { points: [2], wait: true });
    assert.deepEqual((await retrieveOne(2)).payload, {});
  }],
  ['delete points by id', async () => {
    assert.equal((await client.delete(collection, { points: [4, berlin], wait: true })).status, 'completed');
    assert.equal(await retrieveOne(4), undefined);
    assert.deepEqual(await client.count(collection), { count: 4 });
  }],
  ['delete points by filter', async () => {
    await client.delete(collection, { filter: { must: [{ key: 'city', match: { value: 'Paris' } }] }, wait: true });
    assert.equal(await retrieveOne(paris), undefined);
    assert.deepEqual(await client.count(collection), { count: 3 });
  }],
  ['second collection: Dot with hnsw_config', async () => {
    assert.equal(await client.createCollection(other, { vectors: { size: 2, distance: 'Dot' }, hnsw_config: { m: 8, ef_construct: 64 } }), true);
    assert.equal((await client.getCollection(other)).config.params.vectors.distance, 'Dot');
  }],
  ['upsert in the columnar batch form, nested payloads', async () => {
    const batch = { ids: [10, 11, 12], vectors: [[1, 2], [3, 4], [-1, 0.5]], payloads: [{ a: { b: 'x' } }, { a: { b: 'y' }, note: null }, {}] };
    assert.equal((await client.upsert(other, { wait: true, batch })).status, 'completed');
    const found = await client.retrieve(other, { ids: [10, 11, 12], with_vector: true });
    assert.deepEqual(found.map((p) => p.id).sort(), [10, 11, 12]);
    assert.deepEqual(found.find((p) => p.id === 11).vector, [3, 4]);
    assert.deepEqual(found.find((p) => p.id === 10).payload, { a: { b: 'x' } });
  }],
  ['filters: nested key, has_id, is_empty, is_null', async () => {
    const ids = async (filter) => sortedIds((await client.scroll(other, { filter, limit: 10 })).points.map((p) => p.id));
    assert.deepEqual(await ids({ must: [{ key: 'a.b', match: { value: 'y' } }] }), ['11']);
    assert.deepEqual(await ids({ must: [{ has_id: [10, 12] }] }), ['10', '12']);
    assert.deepEqual(await ids({ must: [{ is_empty: { key: 'a' } }] }), ['12']);
    assert.deepEqual(await ids({ must: [{ is_null: { key: 'note' } }] }), ['11']);
  }],
  ['queryBatch and searchBatch', async () => {
    const results = await client.queryBatch(other, { searches: [{ query: [1, 0], limit: 1 }, { query: [0, 1], limit: 2, filter: { must_not: [{ has_id: [11] }] } }] });
    assert.deepEqual(results.map((r) => r.points.map((p) => p.id)), [[11], [10, 12]]);
    const searched = await client.searchBatch(other, { searches: [{ vector: [-1, 0], limit: 1 }] });
    assert.deepEqual(searched.map((r) => r.map((p) => p.id)), [[12]]);
  }],
  ['batchUpdate: upsert, set payload and delete in one request', async () => {
    const operations = [
      { upsert: { points: [{ id: 13, vector: [5, 6], payload: { k: 0 } }] } },
      { set_payload: { payload: { k: 1 }, points: [10] } },
      { delete: { points: [11] } },
    ];
    const results = await client.batchUpdate(other, { wait: true, operations });
    assert.equal(results.length, 3);
    assert.ok(results.every((r) => r.status === 'completed'));
    assert.deepEqual(await client.count(other), { count: 3 });
    assert.deepEqual((await client.retrieve(other, { ids: [10] }))[0].payload, { a: { b: 'x' }, k: 1 });
  }],
  ['updateVectors', async () => {
    await client.updateVectors(other, { wait: true, points: [{ id: 10, vector: [7, 8] }] });
    assert.deepEqual((await client.retrieve(other, { ids: [10], with_vector: true }))[0].vector, [7, 8]);
    assert.equal(await client.deleteCollection(other), true);
  }],
  ['a missing collection is an error', async () => {
    await assert.rejects(client.getCollection('js_client_missing'), (e) => e.status === 404 || /404/.test(String(e)));
  }],
  ['deleteCollection', async () => {
    assert.equal(await client.deleteCollection(collection), true);
    assert.deepEqual(await client.collectionExists(collection), { exists: false });
  }],
];

for (const [name, run] of steps) {
  try {
    await run();
    console.log(`ok   ${name}`);
  } catch (error) {
    console.log(`FAIL ${name}`);
    console.log(error?.stack ?? String(error));
    if (error?.data !== undefined) {
      console.log(`response: ${JSON.stringify(error.data)}`);
    }

    process.exit(1);
  }
}

console.log(`all ${steps.length} steps passed against ${url}`);
