// bench/node-peer/server.js: the comparison peer of bench/json-throughput.sh. A plain Node.js HTTP
// server on onnxruntime-node answering Open Inference Protocol v2 JSON requests, the way a simple
// Node service would: POST /v2/models/NAME/infer with FP32 inputs (data flat or nested), every
// output back as FP32 JSON. GET /v2/health/ready answers 200. Not a product: no binary extension,
// FP32 only, errors as {"error": "..."} with status 400.
//
//   node bench/node-peer/server.js MODEL.onnx PORT
// One intra-op and one inter-op thread, as the agent's sessions run by default.
'use strict';
const http = require('node:http');
const path = require('node:path');
const ort = require('onnxruntime-node');

async function main() {
  const [modelPath, portArg] = process.argv.slice(2);
  if (!modelPath || !portArg) {
    console.error('usage: node server.js MODEL.onnx PORT');
    process.exit(2);
  }
  const name = path.basename(modelPath, path.extname(modelPath));
  const session = await ort.InferenceSession.create(modelPath,
    { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const inferPath = `/v2/models/${name}/infer`;

  const server = http.createServer((req, res) => {
    const answer = (status, obj) => {
      const s = JSON.stringify(obj);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s) });
      res.end(s);
    };
    if (req.method === 'GET' && req.url === '/v2/health/ready') {
      answer(200, {});
      return;
    }
    if (req.method !== 'POST' || req.url !== inferPath) {
      answer(404, { error: `no route ${req.method} ${req.url}` });
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const feeds = {};
        for (const t of body.inputs) {
          if (t.datatype !== 'FP32') {
            throw new Error(`input '${t.name}': only FP32, got ${t.datatype}`);
          }
          feeds[t.name] = new ort.Tensor('float32', Float32Array.from(t.data.flat(Infinity)), t.shape);
        }
        const out = await session.run(feeds);
        answer(200, {
          model_name: name,
          id: body.id,
          outputs: session.outputNames.map((n) => ({
            name: n, datatype: 'FP32', shape: out[n].dims, data: Array.from(out[n].data),
          })),
        });
      } catch (e) {
        answer(400, { error: String(e.message || e) });
      }
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(Number(portArg), '127.0.0.1', () => console.log(`node peer: ${name} on 127.0.0.1:${portArg}`));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
